import { randomUUID } from 'node:crypto';
import { claimInbox } from '../src';
import { beginTransaction, createTestDatabase, type OpenTransaction, type TestDatabase } from './support';

let db: TestDatabase;
const open: OpenTransaction[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.release()));
});

afterAll(async () => {
  await db?.drop();
});

async function begin(): Promise<OpenTransaction> {
  const t = await beginTransaction(db.dataSource);
  open.push(t);
  return t;
}

const claim = (consumer: string, eventId: string) => db.dataSource.transaction((tx) => claimInbox(tx, consumer, eventId));

describe('claimInbox', () => {
  it('claims an event once per consumer', async () => {
    const eventId = randomUUID();

    await expect(claim('payment', eventId)).resolves.toBe(true);
    await expect(claim('payment', eventId)).resolves.toBe(false);
    await expect(claim('payment', eventId)).resolves.toBe(false);
  });

  it('lets another consumer claim the same event', async () => {
    const eventId = randomUUID();
    await claim('payment', eventId);

    await expect(claim('inventory', eventId)).resolves.toBe(true);
    await expect(claim('payment', randomUUID())).resolves.toBe(true);
  });

  it('forgets a claim whose transaction rolled back, so the event can be handled again', async () => {
    const eventId = randomUUID();
    const t = await begin();
    await expect(claimInbox(t.tx, 'shipping', eventId)).resolves.toBe(true);
    await t.rollback();

    await expect(claim('shipping', eventId)).resolves.toBe(true);
  });

  it('lets a redelivery racing the first delivery claim nothing once the first commits', async () => {
    const eventId = randomUUID();
    const first = await begin();
    const second = await begin();
    await expect(claimInbox(first.tx, 'orders', eventId)).resolves.toBe(true);

    // The duplicate's insert waits on the first transaction's key.
    const racing = claimInbox(second.tx, 'orders', eventId);
    await first.commit();

    await expect(racing).resolves.toBe(false);
    await second.commit();
    const rows: unknown[] = await db.dataSource.query('SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2', ['orders', eventId]);
    expect(rows).toHaveLength(1);
  });

  it('lets the racing redelivery claim the event when the first delivery rolls back', async () => {
    const eventId = randomUUID();
    const first = await begin();
    const second = await begin();
    await claimInbox(first.tx, 'orders', eventId);
    const racing = claimInbox(second.tx, 'orders', eventId);

    await first.rollback();

    await expect(racing).resolves.toBe(true);
  });

  it('rejects an event id that is not a uuid instead of recording it', async () => {
    await expect(claim('orders', 'not-a-uuid')).rejects.toThrow(/uuid/);
  });
});
