import { randomUUID } from 'node:crypto';
import { encodeEvent, toEnvelope, type AnyEvent, type DomainEvent } from '@orderflow/contracts';
import type { Decider } from '@orderflow/domain';
import { ConcurrencyError, appendToStream, decideAndAppend, inTransaction, readLastEvent, readStream } from '../src';
import {
  beginTransaction,
  countRows,
  createTestDatabase,
  orderCompleted,
  orderConfirmed,
  orderPlaced,
  outboxEventIds,
  type OpenTransaction,
  type TestDatabase,
} from './support';

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

const streamOf = (orderId: string) => `order-${orderId}`;

describe('appendToStream and readStream', () => {
  it('round-trips every envelope attribute in stream-version order', async () => {
    const orderId = randomUUID();
    const placed = orderPlaced(orderId, { correlationId: 'corr-42' });
    const confirmed = { ...orderConfirmed(orderId, placed), traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    const completed = orderCompleted(orderId, confirmed);

    const afterFirst = await db.dataSource.transaction((tx) => appendToStream(tx, streamOf(orderId), 0, [{ event: placed, publish: true }]));
    const afterRest = await db.dataSource.transaction((tx) =>
      appendToStream(tx, streamOf(orderId), 1, [
        { event: confirmed, publish: true },
        { event: completed, publish: false },
      ]),
    );

    expect(afterFirst).toBe(1);
    expect(afterRest).toBe(3);
    const stream = await readStream(db.dataSource.manager, streamOf(orderId));
    expect(stream.version).toBe(3);
    expect(stream.events).toEqual([placed, confirmed, completed]);
    expect(stream.events[1]?.correlationid).toBe('corr-42');
    expect(stream.events[1]?.causationid).toBe(placed.id);
    expect(stream.events[1]?.traceparent).toBe(confirmed.traceparent);
  });

  it('reads an unknown stream as version 0 with no events', async () => {
    await expect(readStream(db.dataSource.manager, 'order-never-written')).resolves.toEqual({ version: 0, events: [] });
    await expect(readLastEvent(db.dataSource.manager, 'order-never-written')).resolves.toEqual({ version: 0 });
  });

  it('reads the newest event of a stream with its version', async () => {
    const orderId = randomUUID();
    const placed = orderPlaced(orderId);
    const confirmed = orderConfirmed(orderId, placed);
    await db.dataSource.transaction((tx) =>
      appendToStream(tx, streamOf(orderId), 0, [
        { event: placed, publish: false },
        { event: confirmed, publish: false },
      ]),
    );

    await expect(readLastEvent(db.dataSource.manager, streamOf(orderId))).resolves.toEqual({ version: 2, event: confirmed });
  });

  it('keeps streams apart: versions are counted per stream', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await db.dataSource.transaction(async (tx) => {
      await appendToStream(tx, streamOf(a), 0, [{ event: orderPlaced(a), publish: false }]);
      await appendToStream(tx, streamOf(b), 0, [{ event: orderPlaced(b), publish: false }]);
    });

    expect((await readStream(db.dataSource.manager, streamOf(a))).version).toBe(1);
    expect((await readStream(db.dataSource.manager, streamOf(b))).version).toBe(1);
  });

  it('returns the expected version and writes nothing when given no events', async () => {
    const events = await countRows(db.dataSource, 'events');
    await expect(db.dataSource.transaction((tx) => appendToStream(tx, 'order-empty', 7, []))).resolves.toBe(7);
    expect(await countRows(db.dataSource, 'events')).toBe(events);
  });
});

describe('optimistic concurrency', () => {
  it('rejects an append at a stale expected version with ConcurrencyError and writes nothing', async () => {
    const orderId = randomUUID();
    const placed = orderPlaced(orderId);
    const confirmed = orderConfirmed(orderId, placed);
    await db.dataSource.transaction((tx) =>
      appendToStream(tx, streamOf(orderId), 0, [
        { event: placed, publish: true },
        { event: confirmed, publish: true },
      ]),
    );
    const eventsBefore = await countRows(db.dataSource, 'events');
    const outboxBefore = await countRows(db.dataSource, 'outbox');

    const late = orderCompleted(orderId);
    const attempt = db.dataSource.transaction((tx) => appendToStream(tx, streamOf(orderId), 1, [{ event: late, publish: true }]));

    await expect(attempt).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(attempt).rejects.toMatchObject({ streamId: streamOf(orderId), expectedVersion: 1, retriable: true });
    expect(await countRows(db.dataSource, 'events')).toBe(eventsBefore);
    expect(await countRows(db.dataSource, 'outbox')).toBe(outboxBefore);
    expect((await readStream(db.dataSource.manager, streamOf(orderId))).events.map((e) => e.id)).toEqual([placed.id, confirmed.id]);
  });

  it('rejects creating a stream that already exists (expected version 0)', async () => {
    const orderId = randomUUID();
    await db.dataSource.transaction((tx) => appendToStream(tx, streamOf(orderId), 0, [{ event: orderPlaced(orderId), publish: false }]));

    await expect(
      db.dataSource.transaction((tx) => appendToStream(tx, streamOf(orderId), 0, [{ event: orderPlaced(orderId), publish: false }])),
    ).rejects.toBeInstanceOf(ConcurrencyError);
  });

  // appendToStream only detects a conflict through the unique (stream_id, stream_version)
  // key, so an expected version *ahead* of the stream inserts past a gap instead of failing.
  it('rejects an append whose expected version is ahead of the stream, leaving no gap in the versions', async () => {
    const orderId = randomUUID();
    const placed = orderPlaced(orderId);
    await db.dataSource.transaction((tx) => appendToStream(tx, streamOf(orderId), 0, [{ event: placed, publish: false }]));

    const attempt = db.dataSource.transaction((tx) =>
      appendToStream(tx, streamOf(orderId), 5, [{ event: orderConfirmed(orderId, placed), publish: false }]),
    );

    await expect(attempt).rejects.toBeInstanceOf(ConcurrencyError);
    const stream = await readStream(db.dataSource.manager, streamOf(orderId));
    expect(stream.version).toBe(1);
    expect(stream.events.map((e) => e.id)).toEqual([placed.id]);
  });

  it('lets exactly one of two concurrent appenders at the same version win', async () => {
    const orderId = randomUUID();
    const first = await begin();
    const second = await begin();
    // Both read the stream before either wrote: both decide at version 0.
    expect((await readStream(first.tx, streamOf(orderId))).version).toBe(0);
    expect((await readStream(second.tx, streamOf(orderId))).version).toBe(0);
    const winner = orderPlaced(orderId);
    const loser = orderPlaced(orderId);

    await appendToStream(first.tx, streamOf(orderId), 0, [{ event: winner, publish: true }]);
    // The second insert waits on the first transaction's uncommitted key...
    const losing = appendToStream(second.tx, streamOf(orderId), 0, [{ event: loser, publish: true }]);
    const settled = losing.then(
      () => 'appended',
      (error: unknown) => error,
    );
    await first.commit();

    // ...and fails once it committed.
    expect(await settled).toBeInstanceOf(ConcurrencyError);
    await second.rollback();
    const stream = await readStream(db.dataSource.manager, streamOf(orderId));
    expect(stream.events).toEqual([winner]);
    expect(await outboxEventIds(db.dataSource)).toContain(winner.id);
    expect(await outboxEventIds(db.dataSource)).not.toContain(loser.id);
  });

  it('lets the waiting appender through when the first one rolls back', async () => {
    const orderId = randomUUID();
    const first = await begin();
    const second = await begin();
    await appendToStream(first.tx, streamOf(orderId), 0, [{ event: orderPlaced(orderId), publish: false }]);
    const survivor = orderPlaced(orderId);
    const appending = appendToStream(second.tx, streamOf(orderId), 0, [{ event: survivor, publish: false }]);

    await first.rollback();
    await expect(appending).resolves.toBe(1);
    await second.commit();

    expect((await readStream(db.dataSource.manager, streamOf(orderId))).events).toEqual([survivor]);
  });

  it('settles many racing appenders without losing or duplicating an event', async () => {
    const orderId = randomUUID();
    const contenders = Array.from({ length: 6 }, () => orderConfirmed(orderId));

    const results = await Promise.allSettled(
      contenders.map((event) =>
        db.dataSource.transaction(async (tx) => {
          const { version } = await readStream(tx, streamOf(orderId));
          return appendToStream(tx, streamOf(orderId), version, [{ event, publish: false }]);
        }),
      ),
    );

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won.length).toBeGreaterThanOrEqual(1);
    expect(lost.every((r) => r.reason instanceof ConcurrencyError)).toBe(true);
    const stream = await readStream(db.dataSource.manager, streamOf(orderId));
    expect(stream.version).toBe(won.length);
    expect(new Set(stream.events.map((e) => e.id)).size).toBe(won.length);
  });
});

describe('outbox writes', () => {
  it('enqueues only events marked publish, with their wire encoding, in the append transaction', async () => {
    const orderId = randomUUID();
    const placed = orderPlaced(orderId);
    const confirmed = orderConfirmed(orderId, placed);
    const completed = orderCompleted(orderId, confirmed);

    await db.dataSource.transaction((tx) =>
      appendToStream(tx, streamOf(orderId), 0, [
        { event: placed, publish: true },
        { event: confirmed, publish: false },
        { event: completed, publish: true },
      ]),
    );

    const rows: { event_id: string; topic: string; message_key: string; headers: Record<string, string>; payload: string }[] =
      await db.dataSource.query('SELECT event_id, topic, message_key, headers, payload FROM outbox WHERE event_id = ANY($1::uuid[]) ORDER BY id', [
        [placed.id, confirmed.id, completed.id],
      ]);
    expect(rows.map((r) => r.event_id)).toEqual([placed.id, completed.id]);
    for (const [row, event] of [
      [rows[0], placed],
      [rows[1], completed],
    ] as const) {
      const wire = encodeEvent(event);
      expect(row).toEqual({ event_id: event.id, topic: 'orders.events', message_key: orderId, headers: wire.headers, payload: wire.value });
    }
  });

  it('leaves neither event nor outbox row behind when the transaction rolls back', async () => {
    const orderId = randomUUID();
    const placed = orderPlaced(orderId);
    const eventsBefore = await countRows(db.dataSource, 'events');
    const outboxBefore = await countRows(db.dataSource, 'outbox');

    const t = await begin();
    await appendToStream(t.tx, streamOf(orderId), 0, [{ event: placed, publish: true }]);
    // Visible inside the transaction, so it really was written there...
    expect((await readStream(t.tx, streamOf(orderId))).version).toBe(1);
    const inside: unknown[] = await t.tx.query('SELECT 1 FROM outbox WHERE event_id = $1', [placed.id]);
    expect(inside).toHaveLength(1);
    await t.rollback();

    expect(await countRows(db.dataSource, 'events')).toBe(eventsBefore);
    expect(await countRows(db.dataSource, 'outbox')).toBe(outboxBefore);
    expect(await outboxEventIds(db.dataSource)).not.toContain(placed.id);
  });

  it('does not show an uncommitted append to other transactions', async () => {
    const orderId = randomUUID();
    const placed = orderPlaced(orderId);
    const t = await begin();
    await appendToStream(t.tx, streamOf(orderId), 0, [{ event: placed, publish: true }]);

    expect((await readStream(db.dataSource.manager, streamOf(orderId))).version).toBe(0);
    expect(await outboxEventIds(db.dataSource)).not.toContain(placed.id);

    await t.commit();
    expect((await readStream(db.dataSource.manager, streamOf(orderId))).version).toBe(1);
    expect(await outboxEventIds(db.dataSource)).toContain(placed.id);
  });
});

describe('decideAndAppend', () => {
  type Command = { kind: 'place'; orderId: string } | { kind: 'confirm'; orderId: string };
  interface State {
    placed: boolean;
    confirmed: boolean;
  }
  type OrderEvent = DomainEvent<'OrderPlaced' | 'OrderConfirmed'>;

  const decider: Decider<State, Command, OrderEvent> = {
    initialState: () => ({ placed: false, confirmed: false }),
    evolve: (state, event) => (event.type === 'OrderPlaced' ? { ...state, placed: true } : { ...state, confirmed: true }),
    decide: (command, state) => {
      if (command.kind === 'place') return state.placed ? [] : [{ type: 'OrderPlaced', data: orderPlaced(command.orderId).data }];
      return state.placed && !state.confirmed ? [{ type: 'OrderConfirmed', data: orderConfirmed(command.orderId).data }] : [];
    },
  };
  const wrap = (event: OrderEvent): AnyEvent => toEnvelope(event, { source: 'orderflow/it-eventstore', time: new Date() });

  it('loads the stream, appends what the decider decided and returns the evolved state', async () => {
    const orderId = randomUUID();
    const placed = await inTransaction(db.dataSource, (tx) =>
      decideAndAppend(tx, streamOf(orderId), decider, { kind: 'place', orderId }, wrap, (e) => e.type !== 'OrderPlaced'),
    );
    const confirmed = await inTransaction(db.dataSource, (tx) =>
      decideAndAppend(tx, streamOf(orderId), decider, { kind: 'confirm', orderId }, wrap),
    );
    const again = await inTransaction(db.dataSource, (tx) =>
      decideAndAppend(tx, streamOf(orderId), decider, { kind: 'confirm', orderId }, wrap),
    );

    expect(placed.state).toEqual({ placed: true, confirmed: false });
    expect(confirmed.state).toEqual({ placed: true, confirmed: true });
    expect(again).toEqual({ state: { placed: true, confirmed: true }, appended: [] });
    const stream = await readStream(db.dataSource.manager, streamOf(orderId));
    expect(stream.events).toEqual([...placed.appended, ...confirmed.appended]);
    const outbox = await outboxEventIds(db.dataSource);
    expect(outbox).not.toContain(placed.appended[0]?.id);
    expect(outbox).toContain(confirmed.appended[0]?.id);
  });

  it('decides again on the fresh state when a concurrent command won the race', async () => {
    const orderId = randomUUID();
    await inTransaction(db.dataSource, (tx) => decideAndAppend(tx, streamOf(orderId), decider, { kind: 'place', orderId }, wrap));

    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        inTransaction(db.dataSource, (tx) => decideAndAppend(tx, streamOf(orderId), decider, { kind: 'confirm', orderId }, wrap), {
          attempts: 4,
          baseDelayMs: 5,
        }),
      ),
    );

    // Exactly one confirmation: the losers reloaded, saw it, and decided nothing.
    expect(results.filter((r) => r.appended.length === 1)).toHaveLength(1);
    expect(results.every((r) => r.state.confirmed)).toBe(true);
    const stream = await readStream(db.dataSource.manager, streamOf(orderId));
    expect(stream.events.map((e) => e.type)).toEqual(['OrderPlaced', 'OrderConfirmed']);
  });
});
