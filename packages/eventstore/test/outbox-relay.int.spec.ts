import { encodeEvent, type AnyEvent } from '@orderflow/contracts';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { OUTBOX_CHANNEL, OutboxRelay, appendToStream, databaseUrl, inTransaction, type OutboxMessage, type OutboxRelayOptions } from '../src';
import { senderTag } from '../src/outbox-signal';
import {
  beginTransaction,
  countRows,
  createTestDatabase,
  outboxEventIds,
  deferred,
  type Deferred,
  orderConfirmed,
  orderPlaced,
  SERVER_URL,
  waitFor,
  type OpenTransaction,
  type TestDatabase,
} from './support';

let db: TestDatabase;
const open: OpenTransaction[] = [];
const relays: OutboxRelay[] = [];
const gates: Deferred[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

beforeEach(async () => {
  // Every test starts from an empty outbox, whatever the previous one left behind.
  await db.dataSource.query('DELETE FROM outbox');
});

afterEach(async () => {
  // Open any gate a failed test left shut, or stop() would wait for its batch forever.
  gates.splice(0).forEach((g) => g.resolve());
  await Promise.all(relays.splice(0).map((r) => r.stop()));
  await Promise.all(open.splice(0).map((t) => t.release()));
});

afterAll(async () => {
  await db?.drop();
});

function relay(options: OutboxRelayOptions, dataSource: DataSource = db.dataSource): OutboxRelay {
  const r = new OutboxRelay(dataSource, options);
  relays.push(r);
  return r;
}

/** A publish function that records what it was given, batch by batch. */
function capture() {
  const batches: OutboxMessage[][] = [];
  return {
    batches,
    publish: async (messages: OutboxMessage[]) => {
      batches.push(messages);
    },
    eventIds: () => batches.flat().map((m) => m.eventId),
  };
}

/** Through the unit of work, as services do: its after-commit hook wakes a started relay. */
async function appendCommitted(event: AnyEvent, streamId = `order-${event.subject}`, expectedVersion = 0): Promise<void> {
  await inTransaction(db.dataSource, (tx) => appendToStream(tx, streamId, expectedVersion, [{ event, publish: true }]));
}

async function listeners(dataSource: DataSource): Promise<number> {
  const rows: unknown[] = await dataSource.query(
    "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND state = 'idle'",
  );
  return rows.length;
}

/** The relay's reads and deletes of the outbox, by their first four words, as its connection sends them (until `restore`). */
function recordRelayStatements(): { statements: string[]; restore: () => void } {
  const statements: string[] = [];
  const query = Client.prototype.query;
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0].replace(/\s+/g, ' ').trim() : '';
    if (/^(SELECT id, event_id|WITH gone|DELETE FROM outbox WHERE)/.test(text)) statements.push(text.split(' ').slice(0, 4).join(' '));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  return { statements, restore: () => (Client.prototype.query = query) };
}

async function appendMany(count: number): Promise<AnyEvent[]> {
  const events = Array.from({ length: count }, () => orderPlaced());
  // One transaction per event, so outbox ids follow this order.
  for (const event of events) await appendCommitted(event);
  return events;
}

describe('OutboxRelay.drain', () => {
  it('publishes committed rows as their wire messages, then deletes them', async () => {
    const placed = orderPlaced();
    await appendCommitted(placed);
    const sink = capture();
    const published: number[] = [];

    const sent = await relay({ publish: sink.publish, onPublished: (n) => published.push(n) }).drain();

    expect(sent).toBe(1);
    const wire = encodeEvent(placed);
    expect(sink.batches).toEqual([
      [{ id: expect.any(String), eventId: placed.id, topic: 'orders.events', key: wire.key, headers: wire.headers, value: wire.value }],
    ]);
    expect(published).toEqual([1]);
    expect(await countRows(db.dataSource, 'outbox')).toBe(0);
    await expect(relay({ publish: sink.publish }).drain()).resolves.toBe(0);
  });

  it('publishes in id order across batches and returns the total', async () => {
    const events = await appendMany(5);
    const sink = capture();

    await expect(relay({ publish: sink.publish, batchSize: 2 }).drain()).resolves.toBe(5);

    expect(sink.batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(sink.eventIds()).toEqual(events.map((e) => e.id));
    const ids = sink.batches.flat().map((m) => BigInt(m.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(await countRows(db.dataSource, 'outbox')).toBe(0);
  });

  it('does not publish an event whose transaction rolled back', async () => {
    const t = await beginTransaction(db.dataSource);
    open.push(t);
    const doomed = orderPlaced();
    await appendToStream(t.tx, `order-${doomed.subject}`, 0, [{ event: doomed, publish: true }]);
    await t.rollback();
    const kept = orderPlaced();
    await appendCommitted(kept);
    const sink = capture();

    await relay({ publish: sink.publish }).drain();

    expect(sink.eventIds()).toEqual([kept.id]);
  });

  // The transactional outbox's central promise: an id allocated by a transaction
  // that commits late must not be skipped by a relay that already went past it.
  it('publishes a row committed late with a lower id on the next pass, skipping nothing', async () => {
    const s1 = orderPlaced();
    const s2 = orderPlaced();
    const a = await beginTransaction(db.dataSource);
    open.push(a);
    await appendToStream(a.tx, `order-${s1.subject}`, 0, [{ event: s1, publish: true }]); // lower outbox id, still open
    await appendCommitted(s2); // higher id, committed
    const sink = capture();
    const r = relay({ publish: sink.publish });

    await expect(r.drain()).resolves.toBe(1);
    expect(sink.eventIds()).toEqual([s2.id]);

    await a.commit();
    await expect(r.drain()).resolves.toBe(1);
    expect(sink.eventIds()).toEqual([s2.id, s1.id]);
    expect(await countRows(db.dataSource, 'outbox')).toBe(0);

    const ids = sink.batches.flat().map((m) => BigInt(m.id));
    expect(ids[1]! < ids[0]!).toBe(true); // really the lower id, published second
  });

  it('keeps the rows when publishing fails and publishes them in id order once it works', async () => {
    const events = await appendMany(4);
    let brokerUp = false;
    const sink = capture();
    const r = relay({
      batchSize: 3,
      publish: async (messages) => {
        if (!brokerUp) throw new Error('broker unreachable');
        await sink.publish(messages);
      },
    });

    await expect(r.drain()).rejects.toThrow('broker unreachable');
    await expect(r.drain()).rejects.toThrow('broker unreachable');
    expect(await r.pending()).toBe(4);

    brokerUp = true;
    await expect(r.drain()).resolves.toBe(4);
    expect(sink.eventIds()).toEqual(events.map((e) => e.id));
    expect(await r.pending()).toBe(0);
  });

  it('leaves a batch in the outbox when publishing fails half-way through the drain', async () => {
    const events = await appendMany(4);
    const sink = capture();
    let calls = 0;
    const r = relay({
      batchSize: 2,
      publish: async (messages) => {
        if (++calls === 2) throw new Error('broker went away');
        await sink.publish(messages);
      },
    });

    await expect(r.drain()).rejects.toThrow('broker went away');
    expect(sink.eventIds()).toEqual(events.slice(0, 2).map((e) => e.id));
    expect(await r.pending()).toBe(2);

    await expect(r.drain()).resolves.toBe(2);
    expect(sink.eventIds()).toEqual(events.map((e) => e.id));
  });
});

/** A refusal for good, as the publisher reports MESSAGE_TOO_LARGE. */
function refused(code = 'MESSAGE_TOO_LARGE'): Error {
  return Object.assign(new Error(`broker refused (${code})`), { name: 'BrokerRefusedError', code, retriable: false });
}

describe('OutboxRelay.drain with a publish report', () => {
  it('deletes only the rows the broker acknowledged and keeps the rest for the next pass', async () => {
    const events = await appendMany(4);
    const [a, b, c, d] = events.map((e) => e.id);
    let failing = true;
    const sink = capture();
    const r = relay({
      publish: async (messages) => {
        if (!failing) return sink.publish(messages);
        // b and d share a partition that is down; a and c were acknowledged.
        const down = messages.filter((m) => m.eventId === b || m.eventId === d);
        await sink.publish(messages.filter((m) => !down.includes(m)));
        return { acked: messages.filter((m) => !down.includes(m)), failed: [{ messages: down, error: new Error('NOT_LEADER_OR_FOLLOWER') }] };
      },
    });

    await expect(r.drain()).rejects.toThrow('NOT_LEADER_OR_FOLLOWER');
    expect(await outboxEventIds(db.dataSource)).toEqual([b, d]);

    failing = false;
    await expect(r.drain()).resolves.toBe(2);
    expect(sink.eventIds()).toEqual([a, c, b, d]);
    expect(await countRows(db.dataSource, 'outbox')).toBe(0);
  });

  it('keeps a row that is in neither list of the report', async () => {
    const [first, second] = await appendMany(2);
    const r = relay({ publish: async (messages) => ({ acked: messages.slice(0, 1), failed: [] }) });

    await expect(r.drain()).resolves.toBe(1);

    expect(await outboxEventIds(db.dataSource)).toEqual([second!.id]);
    expect(first).toBeDefined();
  });

  it('parks a row refused for good, found by sending its group one row at a time, and publishes every other row', async () => {
    const [before, poison, after] = await appendMany(3);
    const sameKeyLater = orderConfirmed(poison!.subject, poison);
    await appendCommitted(sameKeyLater, `order-${poison!.subject}`, 1);
    const sink = capture();
    const calls: string[][] = [];
    const parked: string[] = [];
    const warnings: string[] = [];
    const r = relay({
      publish: async (messages) => {
        calls.push(messages.map((m) => m.eventId));
        if (messages.some((m) => m.eventId === poison!.id)) throw refused();
        await sink.publish(messages);
      },
      onParked: (m) => parked.push(m.eventId),
      logger: { log: () => undefined, warn: (m) => warnings.push(m) },
    });

    await expect(r.drain()).resolves.toBe(3);

    // The whole batch was refused; then its rows went one by one.
    expect(calls).toEqual([[before!.id, poison!.id, after!.id, sameKeyLater.id], [before!.id], [poison!.id], [after!.id], [sameKeyLater.id]]);
    // A parked row is a dead letter on the producer side: later events of its key still go.
    expect(sink.eventIds()).toEqual([before!.id, after!.id, sameKeyLater.id]);
    expect(parked).toEqual([poison!.id]);
    expect(warnings.some((w) => w.includes(`parked event ${poison!.id}`) && w.includes('MESSAGE_TOO_LARGE'))).toBe(true);
    expect(await countRows(db.dataSource, 'outbox')).toBe(0);
    const rows: { event_id: string; topic: string; error: string; error_name: string; error_code: string; parked_at: Date; payload: string }[] =
      await db.dataSource.query('SELECT event_id, topic, error, error_name, error_code, parked_at, payload FROM outbox_parked');
    expect(rows).toEqual([
      {
        event_id: poison!.id,
        topic: 'orders.events',
        error: 'broker refused (MESSAGE_TOO_LARGE)',
        error_name: 'BrokerRefusedError',
        error_code: 'MESSAGE_TOO_LARGE',
        parked_at: expect.any(Date),
        payload: encodeEvent(poison!).value,
      },
    ]);
    await db.dataSource.query('DELETE FROM outbox_parked');
  });

  it('stops isolating at a transient failure, keeping the rows after it in order', async () => {
    const [first, second, third] = await appendMany(3);
    let calls = 0;
    const sink = capture();
    const r = relay({
      publish: async (messages) => {
        calls++;
        if (calls === 1) throw refused('RECORD_LIST_TOO_LARGE');
        if (calls === 3) throw new Error('connection lost');
        await sink.publish(messages);
      },
    });

    await expect(r.drain()).rejects.toThrow('connection lost');

    expect(sink.eventIds()).toEqual([first!.id]);
    expect(await outboxEventIds(db.dataSource)).toEqual([second!.id, third!.id]);
    expect(await countRows(db.dataSource, 'outbox_parked')).toBe(0);
  });

  it('caps a batch by its bytes as well as by its count', async () => {
    const events = await appendMany(5);
    const one = encodeEvent(events[0]!);
    const bytes = Buffer.byteLength(one.key) + Buffer.byteLength(one.value) + Object.entries(one.headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    const sink = capture();

    // Room for two and a half messages: batches of two, then what is left.
    await expect(relay({ publish: sink.publish, batchSize: 100, maxBatchBytes: Math.floor(bytes * 2.5) }).drain()).resolves.toBe(5);

    expect(sink.batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(sink.eventIds()).toEqual(events.map((e) => e.id));
  });

  it('sends a row larger than the byte cap alone rather than never', async () => {
    const events = await appendMany(2);
    const sink = capture();

    await expect(relay({ publish: sink.publish, maxBatchBytes: 10 }).drain()).resolves.toBe(2);

    expect(sink.batches.map((b) => b.length)).toEqual([1, 1]);
    expect(sink.eventIds()).toEqual(events.map((e) => e.id));
  });

  it('holds no transaction open while the broker answers', async () => {
    await appendMany(2);
    const gate = deferred();
    gates.push(gate);
    let publishing = false;
    const r = relay({
      publish: async () => {
        publishing = true;
        await gate.promise;
      },
    });
    const draining = r.drain();
    await waitFor(() => publishing, { what: 'the publish to start' });

    const inTransaction: unknown[] = await db.dataSource.query(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    );
    // Meanwhile another writer can append and commit.
    await appendMany(1);
    gate.resolve();
    await expect(draining).resolves.toBe(2);

    expect(inTransaction).toEqual([]);
    expect(await countRows(db.dataSource, 'outbox')).toBe(1);
  });

  it('refuses options that make no sense', () => {
    const publish = async () => undefined;
    expect(() => new OutboxRelay(db.dataSource, { publish, batchSize: 0 })).toThrow('batchSize must be an integer >= 1');
    expect(() => new OutboxRelay(db.dataSource, { publish, maxBatchBytes: 1.5 })).toThrow('maxBatchBytes must be an integer >= 1');
    expect(() => new OutboxRelay(db.dataSource, { publish, lockRetryMs: 0 })).toThrow('lockRetryMs must be an integer >= 1');
    expect(() => new OutboxRelay(db.dataSource, { publish, minPassIntervalMs: -1 })).toThrow('minPassIntervalMs must be an integer >= 0');
    expect(() => new OutboxRelay(db.dataSource, { publish, minPassIntervalMs: 0 })).not.toThrow();
  });
});

describe('two relays on one database', () => {
  /** A slow publish that notices if another relay publishes at the same time. */
  function exclusiveProbe(delayMs: number) {
    let active = 0;
    let overlaps = 0;
    const published: string[] = [];
    const publish = async (messages: OutboxMessage[]) => {
      active++;
      if (active > 1) overlaps++;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      published.push(...messages.map((m) => m.eventId));
      active--;
    };
    return { publish, published, overlaps: () => overlaps };
  }

  it('never publish at the same time, so no event goes out twice or out of order', async () => {
    const events = await appendMany(6);
    const other = await db.connectAgain();
    const probe = exclusiveProbe(150);
    const first = relay({ publish: probe.publish, batchSize: 2 });
    const second = relay({ publish: probe.publish, batchSize: 2 }, other);

    const [a, b] = await Promise.all([first.drain(), second.drain()]);

    expect(probe.overlaps()).toBe(0);
    expect(a + b).toBe(6);
    expect(probe.published).toEqual(events.map((e) => e.id));
    expect(await countRows(db.dataSource, 'outbox')).toBe(0);
  });

  it("wake a relay on another DataSource of the same process by notification (as one in another process)", async () => {
    // The commits below go through db.dataSource, whose hook wakes no relay: only the notification can.
    const other = await db.connectAgain();
    const probe = exclusiveProbe(0);
    relay({ publish: probe.publish }, other).start();
    await new Promise((resolve) => setTimeout(resolve, 200)); // its first pass found nothing
    const events = await appendMany(3);
    await waitFor(() => probe.published.length >= events.length, { what: 'the notified relay to publish' });
    expect(probe.published).toEqual(events.map((e) => e.id));
  });

  it('take turns while commits keep waking them, publishing everything exactly once in id order', async () => {
    const other = await db.connectAgain();
    const probe = exclusiveProbe(30);
    const first = relay({ publish: probe.publish, batchSize: 3, lockRetryMs: 5 });
    const second = relay({ publish: probe.publish, batchSize: 3, lockRetryMs: 5 }, other);
    first.start();
    second.start();

    const events = await appendMany(15);
    await waitFor(() => probe.published.length >= events.length, { what: 'all events published' });
    await Promise.all([first.stop(), second.stop()]);

    expect(probe.overlaps()).toBe(0);
    expect(probe.published).toEqual(events.map((e) => e.id));
    expect(await countRows(db.dataSource, 'outbox')).toBe(0);
  });
});

describe('the relay that publishes', () => {
  it("is woken for another instance's commits by that instance's relay, its own commits notifying no one; the other takes over when it goes", async () => {
    const other = await db.connectAgain();
    // What goes over the channel, heard as any other process would.
    const heard: string[] = [];
    const ear = new Client({ connectionString: databaseUrl(SERVER_URL, db.name) });
    ear.on('notification', (message) => heard.push(message.payload ?? ''));
    await ear.connect();
    try {
      await ear.query(`LISTEN ${OUTBOX_CHANNEL}`);
      const sink = capture();
      const first = relay({ publish: sink.publish });
      // The second instance would look at the lock again only after a minute: only a notification can bring its commits out sooner.
      const second = relay({ publish: sink.publish, lockRetryMs: 60_000, maxBackoffMs: 60_000 }, other);
      first.start();
      const own = await appendMany(2);
      await waitFor(() => sink.eventIds().length === 2, { what: 'the first relay to publish its own commits' });
      second.start();
      await waitFor(async () => (await listeners(db.dataSource)) === 3, { what: 'both relays to listen' });
      await new Promise((resolve) => setTimeout(resolve, 300)); // the second relay's first pass found the lock taken

      const theirs = [orderPlaced(), orderPlaced()];
      for (const event of theirs) await inTransaction(other, (tx) => appendToStream(tx, `order-${event.subject}`, 0, [{ event, publish: true }]));
      await waitFor(() => sink.eventIds().length === 4, { timeoutMs: 3_000, what: "the first relay to publish the second instance's commits" });

      expect(sink.eventIds()).toEqual([...own, ...theirs].map((e) => e.id));
      expect(heard).not.toContain(senderTag(db.dataSource));
      expect(heard).toContain(senderTag(other));

      // The first instance goes away: the second one's next commit finds the lock free and it takes over then, not a minute later.
      await first.stop();
      const later = orderPlaced();
      await inTransaction(other, (tx) => appendToStream(tx, `order-${later.subject}`, 0, [{ event: later, publish: true }]));
      await waitFor(() => sink.eventIds().includes(later.id), { timeoutMs: 3_000, what: 'the second relay to take over' });
    } finally {
      await ear.end();
    }
  });

  it('keeps the lock while it runs; another instance takes over once it stops, publishing what was left', async () => {
    const other = await db.connectAgain();
    const firstSink = capture();
    const secondSink = capture();
    const first = relay({ publish: firstSink.publish });
    const second = relay({ publish: secondSink.publish, lockRetryMs: 20, maxBackoffMs: 100 }, other);
    first.start();
    const before = await appendMany(2);
    await waitFor(() => firstSink.eventIds().length === 2, { what: 'the first relay to publish' });
    second.start();
    const more = await appendMany(2);
    await waitFor(() => firstSink.eventIds().length === 4, { what: 'the first relay to publish the later commits too' });
    expect(secondSink.eventIds()).toEqual([]);

    await first.stop();
    // The first instance is gone: what commits now comes from the second one's process.
    const after = [orderPlaced(), orderPlaced()];
    for (const event of after) await inTransaction(other, (tx) => appendToStream(tx, `order-${event.subject}`, 0, [{ event, publish: true }]));
    await waitFor(() => secondSink.eventIds().length === 2, { timeoutMs: 5_000, what: 'the second relay to take over' });
    expect(firstSink.eventIds()).toEqual([...before, ...more].map((e) => e.id));
    expect(secondSink.eventIds()).toEqual(after.map((e) => e.id));
  });
});

describe('OutboxRelay.start', () => {
  it('backs off while publishing fails, and recovers with every row in id order', async () => {
    let brokerUp = false;
    let failures = 0;
    const sink = capture();
    const warnings: string[] = [];
    const logs: string[] = [];
    const r = relay({
      maxBackoffMs: 200,
      publish: async (messages) => {
        if (!brokerUp) {
          failures++;
          throw new Error('connect ECONNREFUSED 127.0.0.1:9092');
        }
        await sink.publish(messages);
      },
      logger: { log: (m) => logs.push(m), warn: (m) => warnings.push(m) },
    });
    const events = await appendMany(3);
    r.start();

    await waitFor(() => failures >= 2, { what: 'two failed passes' });
    expect(await r.pending()).toBe(3);
    expect(warnings[0]).toContain('ECONNREFUSED');
    expect(warnings[0]).toContain('3 event(s) waiting');
    const more = await appendMany(2);

    brokerUp = true;
    await waitFor(async () => (await r.pending()) === 0, { what: 'the outbox to empty' });

    expect(sink.eventIds()).toEqual([...events, ...more].map((e) => e.id));
    expect(logs.some((m) => m.includes('recovered; published 5'))).toBe(true);
  });

  it('publishes a local commit right away, woken by the unit of work, and does nothing while idle', async () => {
    let passes = 0;
    const sink = capture();
    const r = relay({
      publish: async (messages) => {
        passes++;
        await sink.publish(messages);
      },
    });
    const first = orderPlaced();
    await appendCommitted(first);
    r.start();
    await waitFor(() => sink.eventIds().includes(first.id), { what: 'the first pass' });

    // Idle: no pass opens a session to read the outbox.
    let sessions = 0;
    const open = db.dataSource.createQueryRunner.bind(db.dataSource);
    const spy = jest.spyOn(db.dataSource, 'createQueryRunner').mockImplementation((mode) => {
      sessions++;
      return open(mode);
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sessions).toBe(0);
    spy.mockRestore();

    const second = orderPlaced();
    await appendCommitted(second);
    await waitFor(() => sink.eventIds().includes(second.id), { timeoutMs: 2_000, what: 'the woken pass' });
    expect(sink.eventIds()).toEqual([first.id, second.id]);
    expect(passes).toBe(2);
  });

  it('publishes the commits made within minPassIntervalMs of a pass together, with the pass that follows it', async () => {
    const sink = capture();
    const r = relay({ minPassIntervalMs: 500, publish: sink.publish });
    r.start();
    const first = orderPlaced();
    await appendCommitted(first);
    await waitFor(() => sink.eventIds().includes(first.id), { what: 'the first pass' });
    // Three commits right after it: each wakes the relay, and one pass publishes them, once the interval ran out.
    const next = [orderPlaced(), orderPlaced(), orderPlaced()];
    for (const event of next) await appendCommitted(event);
    await waitFor(() => sink.eventIds().length === 4, { timeoutMs: 3_000, what: 'the deferred pass' });
    expect(sink.eventIds()).toEqual([first, ...next].map((e) => e.id));
    expect(sink.batches.map((b) => b.length)).toEqual([1, 3]);
  });

  it("publishes another process's commit, woken by its notification", async () => {
    const sink = capture();
    const r = relay({ publish: sink.publish });
    r.start();
    await waitFor(async () => (await listeners(db.dataSource)) === 1, { what: 'the relay to listen' });

    // Another process: its rows reach this relay only through PostgreSQL, so the
    // notification carries that process's tag, not ours.
    const placed = orderPlaced();
    await db.dataSource.transaction(async (tx) => {
      await appendToStream(tx, `order-${placed.subject}`, 0, [{ event: placed, publish: true }]);
      await tx.query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, 'another-process']);
    });

    await waitFor(() => sink.eventIds().includes(placed.id), { timeoutMs: 2_000, what: 'the notified pass' });
  });

  it('listens again after its connection was killed, and publishes what committed meanwhile', async () => {
    const sink = capture();
    const r = relay({ publish: sink.publish, listenRetryMs: 50 });
    r.start();
    await waitFor(async () => (await listeners(db.dataSource)) === 1, { what: 'the relay to listen' });
    await db.dataSource.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    );
    const placed = orderPlaced();
    await db.dataSource.transaction((tx) => appendToStream(tx, `order-${placed.subject}`, 0, [{ event: placed, publish: true }]));

    await waitFor(() => sink.eventIds().includes(placed.id), { timeoutMs: 5_000, what: 'the pass after listening again' });
    await waitFor(async () => (await listeners(db.dataSource)) === 1, { what: 'the relay to listen again' });
  });

  it("runs another pass when woken while a pass is in flight, which deletes what the first published with its read; alone before it sleeps", async () => {
    const { statements, restore } = recordRelayStatements();
    try {
      const gate = deferred();
      gates.push(gate);
      const sink = capture();
      let calls = 0;
      const r = relay({
        publish: async (messages) => {
          if (++calls === 1) await gate.promise;
          await sink.publish(messages);
        },
      });
      const first = orderPlaced();
      await appendCommitted(first);
      r.start();
      await waitFor(() => calls === 1, { what: 'the first pass to publish' });

      const second = orderPlaced();
      await appendCommitted(second);
      gate.resolve();

      await waitFor(async () => sink.eventIds().length === 2 && (await countRows(db.dataSource, 'outbox')) === 0, { timeoutMs: 5_000, what: 'the second pass' });
      expect(sink.eventIds()).toEqual([first.id, second.id]);
      expect(statements).toEqual(['SELECT id, event_id, topic,', 'WITH gone AS (DELETE', 'DELETE FROM outbox WHERE']);
    } finally {
      restore();
    }
  });

  it('deletes what a pass published with the read of a pass that follows within deleteDelayMs, and alone once none did', async () => {
    const { statements, restore } = recordRelayStatements();
    try {
      const sink = capture();
      const r = relay({ publish: sink.publish, deleteDelayMs: 1_500 });
      r.start();
      const first = orderPlaced();
      await appendCommitted(first);
      await waitFor(() => sink.eventIds().length === 1, { what: 'the first pass' });
      const second = orderPlaced();
      await appendCommitted(second);
      await waitFor(() => sink.eventIds().length === 2, { what: 'the second pass' });
      const publishedAt = Date.now();

      // A later pass's read deleted the first row; the second waits for a pass that does not come.
      expect(await outboxEventIds(db.dataSource)).toEqual([second.id]);
      expect(statements).toContain('WITH gone AS (DELETE');
      expect(statements).not.toContain('DELETE FROM outbox WHERE');
      await waitFor(async () => (await countRows(db.dataSource, 'outbox')) === 0, { timeoutMs: 5_000, what: 'the delete on its own' });
      expect(Date.now() - publishedAt).toBeGreaterThanOrEqual(1_000);
      expect(statements.filter((text) => text === 'DELETE FROM outbox WHERE')).toHaveLength(1);
      expect(statements.at(-1)).toBe('DELETE FROM outbox WHERE');
      expect(sink.eventIds()).toEqual([first.id, second.id]);
    } finally {
      restore();
    }
  });

  it('stop() deletes what was published and not yet deleted', async () => {
    const sink = capture();
    const r = relay({ publish: sink.publish, deleteDelayMs: 60_000 });
    r.start();
    // The passes of the start (and of the first LISTEN) are over: the commit's is the last.
    await waitFor(async () => (await listeners(db.dataSource)) === 1, { what: 'the relay to listen' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const placed = orderPlaced();
    await appendCommitted(placed);
    await waitFor(() => sink.eventIds().length === 1, { what: 'the pass' });
    expect(await countRows(db.dataSource, 'outbox')).toBe(1);

    await r.stop();

    expect(await countRows(db.dataSource, 'outbox')).toBe(0);
    expect(sink.eventIds()).toEqual([placed.id]);
  });

  it('stop() waits for the batch in flight to be published and deleted', async () => {
    const gate = deferred();
    gates.push(gate);
    let publishing = false;
    const sink = capture();
    const r = relay({
      publish: async (messages) => {
        publishing = true;
        await gate.promise;
        await sink.publish(messages);
      },
    });
    const placed = orderPlaced();
    await appendCommitted(placed);
    r.start();
    await waitFor(() => publishing, { what: 'a batch in flight' });

    let stopped = false;
    const stopping = r.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;

    expect(sink.eventIds()).toEqual([placed.id]);
    expect(await countRows(db.dataSource, 'outbox')).toBe(0);
    // Stopped for good: a later commit is not picked up.
    await appendCommitted(orderConfirmed(placed.subject), `order-${placed.subject}`, 1);
    r.wake();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.eventIds()).toEqual([placed.id]);
  });
});
