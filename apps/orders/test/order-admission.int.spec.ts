import type { DataSource } from 'typeorm';
import { OrderAdmission } from '../src/order/order-admission';
import { openOrdersDatabase } from './orders-database';

let dataSource: DataSource;
let drop: () => Promise<void>;

beforeEach(async () => {
  ({ dataSource, drop } = await openOrdersDatabase());
});

afterEach(() => drop());

async function addOrders(status: string, count: number): Promise<void> {
  await dataSource.query(
    `INSERT INTO order_summaries (order_id, customer_id, status, items, total, currency, placed_at, updated_at)
     SELECT gen_random_uuid()::text, 'c-1', $1, '[]', 100, 'EUR', now(), now() FROM generate_series(1, $2)`,
    [status, count],
  );
}

describe('OrderAdmission (load shedding for POST /orders)', () => {
  it('admits below the bound and refuses, with Retry-After, once as many orders as the bound are PENDING', async () => {
    await addOrders('PENDING', 9);
    await addOrders('COMPLETED', 50); // only the saga's backlog counts
    await addOrders('CANCELLED', 50);
    const admission = new OrderAdmission(dataSource, { maxPending: 10, retryAfterSeconds: 3, sampleMs: 0 });
    expect(await admission.admit()).toEqual({ admitted: true });

    await addOrders('PENDING', 1);
    const refused = await admission.admit();
    expect(refused).toEqual({
      admitted: false,
      pending: 10,
      retryAfterSeconds: 3,
      message: 'at least 10 orders are waiting for payment, stock and shipping (the bound is 10); retry in 3 s',
    });

    // The backlog drains: admitted again.
    await dataSource.query(`UPDATE order_summaries SET status = 'CONFIRMED' WHERE order_id IN (SELECT order_id FROM order_summaries WHERE status = 'PENDING' LIMIT 2)`);
    expect(await admission.admit()).toEqual({ admitted: true });
  });

  it('counts what it admitted since the last read, so a burst between two reads stops at the bound', async () => {
    await addOrders('PENDING', 5);
    const admission = new OrderAdmission(dataSource, { maxPending: 8, retryAfterSeconds: 1, sampleMs: 60_000 });
    const verdicts = [];
    for (let i = 0; i < 6; i++) verdicts.push((await admission.admit()).admitted);
    expect(verdicts).toEqual([true, true, true, false, false, false]);
  });

  it('reads the count once for concurrent requests, and again only after the sample interval', async () => {
    await addOrders('PENDING', 3);
    const queries: string[] = [];
    const counting = new Proxy(dataSource, {
      get: (target, property) =>
        property === 'query'
          ? (sql: string, parameters?: unknown[]) => {
              queries.push(sql);
              return target.query(sql, parameters);
            }
          : (Reflect.get(target, property) as unknown),
    });
    const admission = new OrderAdmission(counting, { maxPending: 100, retryAfterSeconds: 1, sampleMs: 250 });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 20 }, () => admission.admit(t0)));
    await admission.admit(t0 + 249);
    expect(queries).toHaveLength(1);
    await admission.admit(t0 + 250);
    expect(queries).toHaveLength(2);
  });

  it('never refuses and never reads with a bound of 0', async () => {
    await addOrders('PENDING', 20);
    const admission = new OrderAdmission(
      new Proxy(dataSource, { get: (t, p) => (p === 'query' ? () => Promise.reject(new Error('must not query')) : (Reflect.get(t, p) as unknown)) }),
      { maxPending: 0, retryAfterSeconds: 1 },
    );
    for (let i = 0; i < 5; i++) expect(await admission.admit()).toEqual({ admitted: true });
  });

  it('a failed read is the error of the request that made it, not a refusal, and the next request reads again', async () => {
    const admission = new OrderAdmission(dataSource, { maxPending: 5, retryAfterSeconds: 1, sampleMs: 0 });
    await dataSource.query('DROP INDEX order_summaries_pending_deadline');
    await dataSource.query('ALTER TABLE order_summaries RENAME TO gone');
    await expect(admission.admit()).rejects.toThrow(/order_summaries/);
    await dataSource.query('ALTER TABLE gone RENAME TO order_summaries');
    expect(await admission.admit()).toEqual({ admitted: true });
  });
});
