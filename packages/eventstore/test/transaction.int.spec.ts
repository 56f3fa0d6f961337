import { randomUUID } from 'node:crypto';
import { encodeEvent } from '@orderflow/contracts';
import { DomainError } from '@orderflow/domain';
import type { EntityManager } from 'typeorm';
import { ConcurrencyError, appendToStream, inTransaction, readLastEvent, readStream, startStream, withEventBatch } from '../src';
import { countRows, createTestDatabase, orderConfirmed, orderPlaced, type TestDatabase } from './support';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

/** Writes a marker event in the attempt's transaction, so rolled-back attempts are visible by their absence. */
async function writeMarker(tx: Parameters<Parameters<typeof inTransaction>[1]>[0], streamId: string): Promise<string> {
  const event = orderPlaced();
  await appendToStream(tx, streamId, 0, [{ event, publish: true }]);
  return event.id;
}

describe('inTransaction', () => {
  it('returns what the work returned and commits it', async () => {
    const stream = `order-${randomUUID()}`;

    const id = await inTransaction(db.dataSource, (tx) => writeMarker(tx, stream));

    expect((await readStream(db.dataSource.manager, stream)).events.map((e) => e.id)).toEqual([id]);
  });

  it('retries the whole transaction after a ConcurrencyError, keeping only the successful attempt', async () => {
    const stream = `order-${randomUUID()}`;
    const eventsBefore = await countRows(db.dataSource, 'events');
    const outboxBefore = await countRows(db.dataSource, 'outbox');
    let attempts = 0;

    const result = await inTransaction(
      db.dataSource,
      async (tx) => {
        attempts++;
        const id = await writeMarker(tx, `${stream}-attempt-${attempts}`);
        if (attempts < 3) throw new ConcurrencyError(stream, attempts);
        return id;
      },
      { attempts: 3, baseDelayMs: 1 },
    );

    expect(attempts).toBe(3);
    expect(await countRows(db.dataSource, 'events')).toBe(eventsBefore + 1);
    expect(await countRows(db.dataSource, 'outbox')).toBe(outboxBefore + 1);
    expect((await readStream(db.dataSource.manager, `${stream}-attempt-3`)).events.map((e) => e.id)).toEqual([result]);
  });

  it('gives up after the configured number of attempts and throws the conflict', async () => {
    let attempts = 0;
    const conflict = new ConcurrencyError('order-busy', 4);

    const running = inTransaction(
      db.dataSource,
      async () => {
        attempts++;
        throw conflict;
      },
      { attempts: 4, baseDelayMs: 1 },
    );

    await expect(running).rejects.toBe(conflict);
    expect(attempts).toBe(4);
  });

  it('tries five times by default', async () => {
    let attempts = 0;

    await expect(
      inTransaction(db.dataSource, async () => {
        attempts++;
        throw new ConcurrencyError('order-busy', 1);
      }),
    ).rejects.toBeInstanceOf(ConcurrencyError);

    expect(attempts).toBe(5);
  });

  it('does not retry other errors and rolls the attempt back', async () => {
    const stream = `order-${randomUUID()}`;
    let attempts = 0;

    await expect(
      inTransaction(db.dataSource, async (tx) => {
        attempts++;
        await writeMarker(tx, stream);
        throw new DomainError('ILLEGAL_STATE', 'order already shipped');
      }),
    ).rejects.toMatchObject({ name: 'DomainError', code: 'ILLEGAL_STATE' });

    expect(attempts).toBe(1);
    expect((await readStream(db.dataSource.manager, stream)).version).toBe(0);
  });

  it('lets racing writers to one stream all succeed by reloading after each conflict', async () => {
    const stream = `order-${randomUUID()}`;
    const writers = 5;

    // Each loss means another writer committed, so N writers need at most N attempts.
    const results = await Promise.all(
      Array.from({ length: writers }, (_, i) =>
        inTransaction(
          db.dataSource,
          async (tx) => {
            const loaded = await readStream(tx, stream);
            return appendToStream(tx, stream, loaded.version, [{ event: orderConfirmed(`order-${i}`), publish: false }]);
          },
          { attempts: writers, baseDelayMs: 2 },
        ),
      ),
    );

    expect([...results].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
    const loaded = await readStream(db.dataSource.manager, stream);
    expect(loaded.version).toBe(writers);
    expect(new Set(loaded.events.map((e) => e.subject)).size).toBe(writers);
  });
});

describe('inTransaction on the wire', () => {
  /** What the transaction's connection sends, one entry per message to PostgreSQL, while `work` runs and commits. */
  async function messagesOf<T>(work: (tx: EntityManager) => Promise<T>): Promise<{ sent: string[]; result: T }> {
    const sent: string[] = [];
    let restore = () => {};
    try {
      const result = await inTransaction(db.dataSource, async (tx) => {
        const client = (await tx.queryRunner!.connect()) as { query: (...args: unknown[]) => unknown };
        const query = client.query;
        client.query = function (this: unknown, ...args: unknown[]) {
          const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
          sent.push((text ?? '').replace(/\s+/g, ' ').trim());
          return query.apply(this, args);
        };
        restore = () => (client.query = query);
        return work(tx);
      });
      return { sent, result };
    } finally {
      restore();
    }
  }

  it('sends BEGIN with the first statement and the batch write with COMMIT: two messages for read, decide, write', async () => {
    const placed = orderPlaced();
    const stream = `order-${placed.subject}`;
    await inTransaction(db.dataSource, (tx) => appendToStream(tx, stream, 0, [{ event: placed, publish: true }]));
    const confirmed = orderConfirmed(placed.subject);

    const { sent } = await messagesOf((tx) =>
      withEventBatch(tx, async () => {
        const loaded = await readStream(tx, stream);
        await appendToStream(tx, stream, loaded.version, [{ event: confirmed, publish: true }]);
      }),
    );

    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/^BEGIN; SELECT stream_version.* WHERE stream_id = 'order-[^']+' ORDER BY stream_version$/);
    expect(sent[1]).toMatch(/^WITH w0 AS \(INSERT INTO events .*; COMMIT$/);
    // The values written into the statements come back as they went in (quotes, a backslash, non-ASCII text).
    expect(await readStream(db.dataSource.manager, stream)).toEqual({ version: 2, events: [placed, confirmed] });
  });

  it('sends a unit of work that only writes as one statement, which PostgreSQL runs as a transaction of its own', async () => {
    const placed = orderPlaced();
    const { sent } = await messagesOf((tx) =>
      withEventBatch(tx, async () => {
        startStream(tx, `order-${placed.subject}`);
        await appendToStream(tx, `order-${placed.subject}`, 0, [{ event: placed, publish: true }]);
      }),
    );
    // No BEGIN, no COMMIT: the write alone, with its parameters (the extended protocol).
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^WITH w0 AS \(INSERT INTO events .* SELECT pg_notify\(\$\d+, \$\d+\)$/);
    // Quotes, a backslash and non-ASCII text come back as they went in: the event, and its message to the byte.
    expect((await readStream(db.dataSource.manager, `order-${placed.subject}`)).events).toEqual([placed]);
    const wire = encodeEvent(placed);
    expect(await db.dataSource.query('SELECT message_key, headers, payload FROM outbox WHERE event_id = $1', [placed.id])).toEqual([
      { message_key: wire.key, headers: wire.headers, payload: wire.value },
    ]);

    const { sent: nothing } = await messagesOf(async () => undefined);
    expect(nothing).toEqual([]);
  });

  it('rolls back a write that fails with its COMMIT, reports it as the version conflict it is, and leaves no connection in a transaction', async () => {
    const placed = orderPlaced();
    const stream = `order-${placed.subject}`;
    await inTransaction(db.dataSource, (tx) => appendToStream(tx, stream, 0, [{ event: placed, publish: true }]));
    const outboxBefore = await countRows(db.dataSource, 'outbox');

    const clash = inTransaction(
      db.dataSource,
      (tx) =>
        withEventBatch(tx, async () => {
          // Read as empty by a batch that believes the stream new: its insert collides when it is sent with COMMIT.
          startStream(tx, stream);
          await readLastEvent(tx, `order-${randomUUID()}`);
          await appendToStream(tx, stream, 0, [{ event: orderConfirmed(placed.subject), publish: true }]);
        }),
      { attempts: 1 },
    );
    await expect(clash).rejects.toMatchObject({ name: 'ConcurrencyError', streamId: stream, expectedVersion: 0 });

    expect(await countRows(db.dataSource, 'outbox')).toBe(outboxBefore);
    expect((await readStream(db.dataSource.manager, stream)).version).toBe(1);
    const [{ n }] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(n).toBe(0);
    // And the pool's connections still work.
    await Promise.all(Array.from({ length: 12 }, () => inTransaction(db.dataSource, (tx) => tx.query('SELECT 1'))));
  });
});
