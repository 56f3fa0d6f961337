import { randomUUID } from 'node:crypto';
import type { AnyEvent } from '@orderflow/contracts';
import type { EntityManager } from 'typeorm';
import { ConcurrencyError, appendToStream, inTransaction, preloadBatch, readLastEvent, readStream, startStream, recordsetUpsert, upsertRow, withEventBatch, type RowUpsert } from '../src';
import { countRows, createTestDatabase, orderCompleted, orderConfirmed, orderPlaced, outboxEventIds, type TestDatabase } from './support';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.dataSource.query('CREATE TABLE summaries (order_id text PRIMARY KEY, status text NOT NULL)');
  await db.dataSource.query('CREATE TABLE levels (sku text PRIMARY KEY, available integer NOT NULL, updated_at timestamptz NOT NULL)');
});

afterAll(async () => {
  await db?.drop();
});

const streamOf = (event: AnyEvent) => `order-${event.subject}`;

/** Records the statements a transaction sends (first three words, or the whole of `full` ones), so a test can see what a batch saves. */
function counting(tx: EntityManager, full = false): { statements: () => string[] } {
  const sent: string[] = [];
  const runner = tx.queryRunner!;
  const query = runner.query.bind(runner);
  runner.query = ((sql: string, parameters?: unknown[], structured?: boolean) => {
    const words = sql.trim().split(/\s+/);
    sent.push((full ? words : words.slice(0, 3)).join(' '));
    return query(sql, parameters, structured as true);
  }) as typeof runner.query;
  return { statements: () => sent };
}

/** A read model written by its own statement (no `statement`): written apart, once per batch. */
const customSummaries: RowUpsert<{ orderId: string; status: string }> = {
  table: 'summaries',
  write: async (tx, rows) => {
    await tx.query(
      `INSERT INTO summaries (order_id, status) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (order_id) DO UPDATE SET status = excluded.status`,
      [rows.map((r) => r.orderId), rows.map((r) => r.status)],
    );
  },
};

const summaries = recordsetUpsert<{ orderId: string; status: string }>('summaries', 'order_id', [
  { name: 'order_id', type: 'text', value: (r) => r.orderId },
  { name: 'status', type: 'text', value: (r) => r.status },
]);

describe('withEventBatch', () => {
  it('reads each stream once, then writes every append, outbox row and read-model row in one statement, in decision order', async () => {
    const a = orderPlaced();
    const b = orderPlaced();
    let statements: string[] = [];
    await inTransaction(db.dataSource, async (tx) => {
      const counter = counting(tx, true);
      await withEventBatch(tx, async () => {
        for (const [event, next] of [
          [a, orderConfirmed(a.subject)],
          [b, orderConfirmed(b.subject)],
        ] as const) {
          const loaded = await readStream(tx, streamOf(event));
          const version = await appendToStream(tx, streamOf(event), loaded.version, [{ event, publish: true }]);
          await upsertRow(tx, summaries, event.subject, { orderId: event.subject, status: 'PENDING' });
          // Read again in the same batch: from memory, with the append not yet written.
          const again = await readStream(tx, streamOf(event));
          expect(again).toEqual({ version: 1, events: [event] });
          await appendToStream(tx, streamOf(event), version, [{ event: next, publish: true }]);
          await upsertRow(tx, summaries, event.subject, { orderId: event.subject, status: 'CONFIRMED' });
        }
        expect(await countRows(db.dataSource, 'events')).toBe(0);
      });
      statements = counter.statements();
    });

    expect(statements.filter((s) => s.startsWith('SELECT stream_version'))).toHaveLength(2);
    const writes = statements.filter((s) => s.includes('INSERT'));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^WITH w0 AS \(INSERT INTO events .*\), w1 AS \(INSERT INTO outbox .*\), w2 AS \(INSERT INTO summaries .*\) SELECT pg_notify\(\$4, \$5\)$/);
    const stored = await inTransaction(db.dataSource, async (tx) => [await readStream(tx, streamOf(a)), await readStream(tx, streamOf(b))]);
    expect(stored.map((s) => s.version)).toEqual([2, 2]);
    const outbox = await outboxEventIds(db.dataSource);
    expect(outbox.slice(-4)).toEqual([a.id, stored[0]!.events[1]!.id, b.id, stored[1]!.events[1]!.id]);
    const rows: { order_id: string; status: string }[] = await db.dataSource.query('SELECT order_id, status FROM summaries WHERE order_id = ANY($1) ORDER BY order_id', [[a.subject, b.subject]]);
    expect(rows.map((r) => r.status)).toEqual(['CONFIRMED', 'CONFIRMED']);
  });

  it('keeps a row whose unlessOlder column is newer than the one a late message brings, in a batch and alone', async () => {
    type Level = { sku: string; available: number; updatedAt: Date };
    const levels = recordsetUpsert<Level>(
      'levels',
      'sku',
      [
        { name: 'sku', type: 'text', value: (r) => r.sku },
        { name: 'available', type: 'integer', value: (r) => r.available },
        { name: 'updated_at', type: 'timestamptz', value: (r) => r.updatedAt },
      ],
      { unlessOlder: 'updated_at' },
    );
    const at = (second: number) => new Date(Date.UTC(2026, 10, 22, 10, 0, second));
    const stored = async (sku: string): Promise<number[]> => {
      const found: { available: number }[] = await db.dataSource.query('SELECT available FROM levels WHERE sku = $1', [sku]);
      return found.map((r) => r.available);
    };
    await inTransaction(db.dataSource, async (tx) => {
      await withEventBatch(tx, async () => {
        // Newer first, then the late older one: the batch keeps the newer.
        await upsertRow(tx, levels, 'MUG', { sku: 'MUG', available: 5, updatedAt: at(2) });
        await upsertRow(tx, levels, 'MUG', { sku: 'MUG', available: 9, updatedAt: at(1) });
        await upsertRow(tx, levels, 'CAP', { sku: 'CAP', available: 7, updatedAt: at(1) });
        await upsertRow(tx, levels, 'CAP', { sku: 'CAP', available: 6, updatedAt: at(1) });
      });
    });
    expect(await stored('MUG')).toEqual([5]);
    expect(await stored('CAP')).toEqual([6]);
    // Alone, and in a later batch: older than the stored row changes nothing, newer replaces it.
    await inTransaction(db.dataSource, (tx) => upsertRow(tx, levels, 'MUG', { sku: 'MUG', available: 8, updatedAt: at(0) }));
    await inTransaction(db.dataSource, (tx) => withEventBatch(tx, () => upsertRow(tx, levels, 'CAP', { sku: 'CAP', available: 3, updatedAt: at(0) })));
    expect(await stored('MUG')).toEqual([5]);
    expect(await stored('CAP')).toEqual([6]);
    await inTransaction(db.dataSource, (tx) => upsertRow(tx, levels, 'MUG', { sku: 'MUG', available: 4, updatedAt: at(3) }));
    expect(await stored('MUG')).toEqual([4]);
    expect(() => recordsetUpsert<Level>('levels', 'sku', [{ name: 'sku', type: 'text', value: (r) => r.sku }], { unlessOlder: 'sku' })).toThrow(
      /unlessOlder "sku" must be a timestamptz, bigint or integer column other than the key/,
    );
  });

  it('writes a read model without a statement of its own apart, once, and the rest of the batch in one statement', async () => {
    const a = orderPlaced();
    let statements: string[] = [];
    await inTransaction(db.dataSource, async (tx) => {
      const counter = counting(tx, true);
      await withEventBatch(tx, async () => {
        await appendToStream(tx, streamOf(a), 0, [{ event: a, publish: true }]);
        await upsertRow(tx, customSummaries, a.subject, { orderId: a.subject, status: 'PENDING' });
        await upsertRow(tx, customSummaries, a.subject, { orderId: a.subject, status: 'CONFIRMED' });
      });
      statements = counter.statements();
    });
    const writes = statements.filter((s) => s.includes('INSERT'));
    expect(writes).toHaveLength(2);
    expect(writes.filter((s) => s.startsWith('INSERT INTO summaries'))).toHaveLength(1);
    expect(writes.filter((s) => /^WITH w0 AS \(INSERT INTO events .*\), w1 AS \(INSERT INTO outbox .*\) SELECT pg_notify/.test(s))).toHaveLength(1);
    expect(await db.dataSource.query('SELECT status FROM summaries WHERE order_id = $1', [a.subject])).toEqual([{ status: 'CONFIRMED' }]);
    expect((await outboxEventIds(db.dataSource)).slice(-1)).toEqual([a.id]);
  });

  it('claims the batch in the inbox and reads the streams it needs, whole or their newest event, in one statement', async () => {
    const a = orderPlaced();
    const b = orderPlaced();
    const bConfirmed = orderConfirmed(b.subject);
    const missing = `order-${randomUUID()}`;
    const missingLast = `order-${randomUUID()}`;
    await inTransaction(db.dataSource, async (tx) => {
      await appendToStream(tx, streamOf(a), 0, [{ event: a, publish: false }]);
      await appendToStream(tx, streamOf(b), 0, [{ event: b, publish: false }, { event: bConfirmed, publish: false }]);
    });
    const handledBefore = randomUUID();
    await inTransaction(db.dataSource, (tx) => preloadBatch(tx, { claim: { consumer: 'it-preload', eventIds: [handledBefore] } }));
    const fresh = randomUUID().toUpperCase();
    let statements: string[] = [];
    let claimed = new Set<string>();
    await inTransaction(db.dataSource, async (tx) => {
      const counter = counting(tx);
      await withEventBatch(tx, async () => {
        claimed = await preloadBatch(tx, {
          claim: { consumer: 'it-preload', eventIds: [handledBefore, fresh, fresh] },
          streams: [streamOf(a), missing, streamOf(a)],
          lastEvents: [streamOf(b), missingLast, streamOf(a)],
        });
        expect(await readStream(tx, streamOf(a))).toEqual({ version: 1, events: [a] });
        expect(await readStream(tx, missing)).toEqual({ version: 0, events: [] });
        expect(await readLastEvent(tx, streamOf(b))).toEqual({ version: 2, event: bConfirmed });
        expect(await readLastEvent(tx, missingLast)).toEqual({ version: 0 });
        expect(await readLastEvent(tx, streamOf(a))).toEqual({ version: 1, event: a });
      });
      statements = counter.statements();
    });
    // Only the id not handled before, once, in lower case.
    expect([...claimed]).toEqual([fresh.toLowerCase()]);
    // The one statement, then the transaction's own COMMIT: every read above came from memory.
    expect(statements).toEqual(['WITH claimed AS', 'COMMIT']);
  });

  it('answers the newest event of a stream from the batch once it appended to it', async () => {
    const placed = orderPlaced();
    const confirmed = orderConfirmed(placed.subject);
    await inTransaction(db.dataSource, (tx) => appendToStream(tx, streamOf(placed), 0, [{ event: placed, publish: false }]));
    await inTransaction(db.dataSource, (tx) =>
      withEventBatch(tx, async () => {
        expect(await readLastEvent(tx, streamOf(placed))).toEqual({ version: 1, event: placed });
        await appendToStream(tx, streamOf(placed), 1, [{ event: confirmed, publish: false }]);
        expect(await readLastEvent(tx, streamOf(placed))).toEqual({ version: 2, event: confirmed });
        // The whole stream, after only its last event was read: stored events, then the batch's.
        expect(await readStream(tx, streamOf(placed))).toEqual({ version: 2, events: [placed, confirmed] });
      }),
    );
  });

  it('refuses an append at a version the batch has already moved past', async () => {
    const placed = orderPlaced();
    await expect(
      inTransaction(
        db.dataSource,
        (tx) =>
          withEventBatch(tx, async () => {
            await appendToStream(tx, streamOf(placed), 0, [{ event: placed, publish: true }]);
            await appendToStream(tx, streamOf(placed), 0, [{ event: orderCompleted(placed.subject), publish: true }]);
          }),
        { attempts: 1 },
      ),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await inTransaction(db.dataSource, (tx) => readStream(tx, streamOf(placed)))).toEqual({ version: 0, events: [] });
  });

  it('turns a clash with another transaction into a ConcurrencyError naming the stream, and writes nothing', async () => {
    const placed = orderPlaced(`order-${randomUUID()}`);
    const outboxBefore = await countRows(db.dataSource, 'outbox');
    const error = await inTransaction(
      db.dataSource,
      (tx) =>
        withEventBatch(tx, async () => {
          await readStream(tx, streamOf(placed));
          await appendToStream(tx, streamOf(placed), 0, [{ event: placed, publish: true }]);
          // Another writer gets there first, between this batch's read and its write.
          await inTransaction(db.dataSource, (other) => appendToStream(other, streamOf(placed), 0, [{ event: orderPlaced(placed.subject), publish: true }]));
        }),
      { attempts: 1 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect((error as ConcurrencyError).streamId).toBe(streamOf(placed));
    expect(await countRows(db.dataSource, 'outbox')).toBe(outboxBefore + 1);
  });
});

describe('startStream', () => {
  it('answers the first read of a stream made just now from memory, and writes its events', async () => {
    const placed = orderPlaced();
    let statements: string[] = [];
    await inTransaction(db.dataSource, async (tx) => {
      const counter = counting(tx);
      await withEventBatch(tx, async () => {
        startStream(tx, streamOf(placed));
        const loaded = await readStream(tx, streamOf(placed));
        expect(loaded).toEqual({ version: 0, events: [] });
        await appendToStream(tx, streamOf(placed), loaded.version, [{ event: placed, publish: true }]);
      });
      statements = counter.statements();
    });
    expect(statements.filter((s) => s.startsWith('SELECT'))).toEqual([]);
    expect(await inTransaction(db.dataSource, (tx) => readStream(tx, streamOf(placed)))).toEqual({ version: 1, events: [placed] });
  });

  it('overwrites nothing when the stream existed after all: the batch fails as a version conflict', async () => {
    const placed = orderPlaced();
    await inTransaction(db.dataSource, (tx) => appendToStream(tx, streamOf(placed), 0, [{ event: placed, publish: true }]));
    const other = orderPlaced(placed.subject);
    await expect(
      inTransaction(
        db.dataSource,
        (tx) =>
          withEventBatch(tx, async () => {
            startStream(tx, streamOf(placed));
            await appendToStream(tx, streamOf(placed), 0, [{ event: other, publish: true }]);
          }),
        { attempts: 2, baseDelayMs: 1 },
      ),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await inTransaction(db.dataSource, (tx) => readStream(tx, streamOf(placed)))).toEqual({ version: 1, events: [placed] });
  });
});

describe('the streams a process knows', () => {
  const batchOf = (dataSource: typeof db.dataSource, streamId: string, work: (loaded: { version: number; events: AnyEvent[] }) => AnyEvent[]) =>
    inTransaction(dataSource, (tx) =>
      withEventBatch(tx, async () => {
        await preloadBatch(tx, { streams: [streamId] });
        const loaded = await readStream(tx, streamId);
        const next = work(loaded);
        await appendToStream(tx, streamId, loaded.version, next.map((event) => ({ event, publish: false })));
        return loaded;
      }),
    );

  it("are read from where this process last saw them, another instance's appends included", async () => {
    const placed = orderPlaced();
    const stream = streamOf(placed);
    const [confirmed, completed, late] = [orderConfirmed(placed.subject), orderCompleted(placed.subject), orderConfirmed(placed.subject)];
    await batchOf(db.dataSource, stream, () => [placed, confirmed]);
    // Another instance (another pool) appends; this process's next batch must see it.
    const other = await db.connectAgain();
    expect(await batchOf(other, stream, () => [completed])).toEqual({ version: 2, events: [placed, confirmed] });

    const loaded = await batchOf(db.dataSource, stream, () => [late]);
    expect(loaded).toEqual({ version: 3, events: [placed, confirmed, completed] });
    expect((await readStream(db.dataSource.manager, stream)).events).toEqual([placed, confirmed, completed, late]);
  });

  it('are not changed by a batch that rolled back', async () => {
    const placed = orderPlaced();
    const stream = streamOf(placed);
    await batchOf(db.dataSource, stream, () => [placed]);
    await expect(
      inTransaction(db.dataSource, (tx) =>
        withEventBatch(tx, async () => {
          await preloadBatch(tx, { streams: [stream] });
          await appendToStream(tx, stream, 1, [{ event: orderConfirmed(placed.subject), publish: false }]);
          throw new Error('the handler failed');
        }),
      ),
    ).rejects.toThrow('the handler failed');
    expect(await batchOf(db.dataSource, stream, () => [])).toEqual({ version: 1, events: [placed] });
  });
});
