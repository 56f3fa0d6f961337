import { randomUUID } from 'node:crypto';
import { DomainError } from '@orderflow/domain';
import { ConcurrencyError, appendToStream, inTransaction, readStream } from '../src';
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
