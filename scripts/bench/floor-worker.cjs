'use strict';
// One process of the framework-free floor: `producer` or `consumer` (argv[2]).
// Only kafkajs, pg and node: no Nest, no TypeORM, none of our packages. What it
// does per order comes from floor-work.cjs (derived from the measured system).
//
// producer: at `rate` orders/s, order n's messages (per topic, messagesOfOrder)
//   are queued at start + n/rate and sent with an idempotent producer (acks all)
//   in batches: one sendBatch in flight, the next holds whatever fell due meanwhile.
// consumer: one consumer group, its partitions consumed concurrently (one pg
//   connection per batch in flight); eachBatch pays the batch's share of
//   transactions and rows (WorkCredit) into the scratch database, then commits
//   the batch's offset.
const { Kafka, logLevel } = require('kafkajs');
const { Pool } = require('pg');
const { performance } = require('node:perf_hooks');
const { serve } = require('./child.cjs');
const { messagesOfOrder, WorkCredit } = require('./floor-work.cjs');
const { latencySummary } = require('./stats.cjs');

const role = process.argv[2];
const epochNow = () => performance.timeOrigin + performance.now();
const requests = {};
const countRequest = (e) => (requests[e.payload.apiName] = (requests[e.payload.apiName] ?? 0) + 1);

function kafkaClient(brokers, clientId) {
  return new Kafka({ clientId, brokers, logLevel: logLevel.ERROR, retry: { retries: 8, initialRetryTime: 200 } });
}

// ── producer ────────────────────────────────────────────────────────────────
/** Bytes of messages per produce request: under the broker's 1 MB per partition batch, whatever the spread over partitions. */
const MAX_REQUEST_BYTES = 800_000;
function producerRole() {
  let producer;
  let shape;

  async function setup({ brokers, topics, valueBytes, headerBytes, headerCount }) {
    producer = kafkaClient(brokers, 'bench-floor-producer').producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    producer.on(producer.events.REQUEST, countRequest);
    await producer.connect();
    const headerValue = 'h'.repeat(Math.max(1, Math.round(headerBytes / Math.max(1, headerCount)) - 6));
    const headers = Object.fromEntries(
      Array.from({ length: headerCount }, (_, i) => [`ce_h${String(i).padStart(2, '0')}`, headerValue]),
    );
    // {"o":123456,"t":1700000000000.123,"p":"…"}: the padding brings it to the measured size.
    const pad = 'x'.repeat(Math.max(0, valueBytes - 48));
    shape = { topics, headers, pad };
    return {};
  }

  async function run({ rate, seconds, firstNumber }) {
    const total = Math.max(1, Math.round(rate * seconds));
    const interval = 1000 / rate;
    const messagesByTopic = Object.fromEntries(Object.keys(shape.topics).map((t) => [t, 0]));
    const lateMs = [];
    let queued = []; // [{ n, messages: [[topic, message]], bytes }]
    const headerBytes = Object.entries(shape.headers ?? {}).reduce((sum, [k, v]) => sum + k.length + String(v).length, 0) + 32;
    let inFlight;
    let sent = 0;
    let acked = 0;
    let failed = 0;
    let firstSendAt;
    let lastSendAt;
    const errors = {};

    const flush = () => {
      if (inFlight || queued.length === 0) return;
      // Fall behind at a high rate and the queue outgrows what one request may carry
      // (message.max.bytes, 1 MB per partition batch): take what fits, the rest goes next.
      let count = 0;
      let bytes = 0;
      while (count < queued.length && (count === 0 || bytes + queued[count].bytes <= MAX_REQUEST_BYTES)) bytes += queued[count++].bytes;
      const orders = queued.splice(0, count);
      const byTopic = new Map();
      for (const o of orders)
        for (const [topic, message] of o.messages) (byTopic.get(topic) ?? byTopic.set(topic, []).get(topic)).push(message);
      inFlight = producer
        .sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
        .then(
          () => {
            acked += orders.length;
            for (const [topic, messages] of byTopic) messagesByTopic[topic] += messages.length;
          },
          (error) => {
            failed += orders.length;
            errors[error.type || error.name] = (errors[error.type || error.name] ?? 0) + orders.length;
          },
        )
        .finally(() => {
          inFlight = undefined;
          flush();
        });
    };

    const enqueue = (n, due) => {
      const messages = [];
      const key = `order-${String(n).padStart(30, '0')}`;
      const value = `{"o":${n},"t":${due},"p":"${shape.pad}"}`;
      for (const [topic, perOrder] of Object.entries(shape.topics)) {
        for (let k = messagesOfOrder(n, perOrder); k > 0; k--) messages.push([topic, { key, value, headers: shape.headers }]);
      }
      const bytes = messages.reduce((sum, [, m]) => sum + m.key.length + m.value.length + headerBytes, 0);
      queued.push({ n, messages, bytes });
    };

    const progress = () =>
      process.send({ type: 'progress', sent, total, accepted: acked, refused: failed, inFlight: sent - acked - failed });
    const timer = setInterval(progress, 1000);
    const start = epochNow() + 5;
    await new Promise((resolve) => {
      const tick = () => {
        const now = epochNow();
        while (sent < total && start + sent * interval <= now) {
          const due = start + sent * interval;
          lateMs.push(now - due);
          enqueue(firstNumber + sent, due);
          firstSendAt ??= now;
          lastSendAt = now;
          sent++;
        }
        flush();
        if (sent >= total) return resolve();
        setTimeout(tick, Math.max(0, start + sent * interval - epochNow()));
      };
      setTimeout(tick, 5);
    });
    while (inFlight || queued.length) {
      flush();
      await inFlight;
    }
    clearInterval(timer);
    progress();
    return {
      offered: total,
      sent,
      accepted: acked,
      failed,
      errors,
      firstSendAt,
      lastSendAt,
      messagesByTopic,
      lateMs: latencySummary(lateMs),
    };
  }

  serve({ setup, run, stats: async () => ({ requests: { ...requests } }) }, async () => producer?.disconnect());
}

// ── consumer ────────────────────────────────────────────────────────────────
const STATE_ROWS = 1000;

function consumerRole() {
  let consumer;
  let db;
  let credit;
  let processed = 0;
  let finished = new Map(); // order → [sendTime, latest finish, messages]
  let stateCursor = 0;
  let rowValue;
  let stateBase;

  async function pay(txs) {
    if (txs.length === 0) return;
    const conn = await db.connect();
    try {
      for (const tx of txs) {
        await conn.query('BEGIN');
        if (tx.inserted)
          await conn.query('INSERT INTO floor_rows (v) SELECT $1::jsonb FROM generate_series(1, $2)', [rowValue, tx.inserted]);
        if (tx.updated) {
          const ids = Array.from({ length: Math.min(tx.updated, STATE_ROWS) }, () => stateBase + (stateCursor++ % STATE_ROWS));
          await conn.query('UPDATE floor_state SET n = n + 1 WHERE id = ANY($1::int[])', [ids]);
        }
        if (tx.deleted) {
          // Oldest first, like an outbox emptied by its relay; SKIP LOCKED so consumers never wait on each other.
          await conn.query(
            'DELETE FROM floor_rows WHERE id IN (SELECT id FROM floor_rows ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)',
            [tx.deleted],
          );
        }
        await conn.query('COMMIT');
      }
    } catch (error) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      conn.release();
    }
  }

  async function setup({ brokers, groupId, topics, perDelivery, databaseUrl, index, valueBytes, concurrency }) {
    // One batch in flight per partition, up to `concurrency`, each on its own connection.
    // The services' session settings (packages/eventstore/src/database.ts): no JIT.
    db = new Pool({ connectionString: databaseUrl, max: concurrency, idleTimeoutMillis: 0, options: '-c jit=off' });
    db.on('error', () => undefined);
    credit = new WorkCredit(perDelivery);
    rowValue = JSON.stringify({ p: 'x'.repeat(Math.max(0, valueBytes - 8)) });
    stateBase = index * STATE_ROWS;
    consumer = kafkaClient(brokers, `bench-floor-${index}`).consumer({ groupId, allowAutoTopicCreation: false });
    consumer.on(consumer.events.REQUEST, countRequest);
    const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: concurrency,
      eachBatch: async ({ batch }) => {
        const n = batch.messages.length;
        if (n === 0) return;
        await pay(credit.take(n));
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
        ]);
        const at = epochNow();
        for (const m of batch.messages) {
          const { o, t } = JSON.parse(m.value.toString('utf8'));
          const seen = finished.get(o);
          if (seen) {
            seen[1] = at;
            seen[2]++;
          } else finished.set(o, [t, at, 1]);
        }
        processed += n;
      },
    });
    await joined;
    setInterval(() => process.send({ type: 'progress', processed }), 250).unref();
    return {};
  }

  /** Per order seen since the last collect: when it was due, its latest finish, how many of its messages (flat arrays). */
  async function collect() {
    const orders = [];
    const sentAt = [];
    const finishedAt = [];
    const counts = [];
    for (const [o, [t, at, count]] of finished) {
      orders.push(o);
      sentAt.push(t);
      finishedAt.push(at);
      counts.push(count);
    }
    finished = new Map();
    return { orders, sentAt, finishedAt, counts, processed };
  }

  /**
   * A backend that just went idle may hold its statistics back for up to 10 s
   * (PostgreSQL ≥ 15): ask for them to be flushed now, so the step's counters are
   * complete. This query is one commit of its own, which the rig subtracts.
   */
  async function flushStats() {
    // Every pooled connection holds its own statistics: flush each one.
    const conns = [];
    try {
      for (let i = 0; i < db.totalCount; i++) conns.push(await db.connect());
      for (const conn of conns) await conn.query('SELECT pg_stat_force_next_flush()');
      return { commits: conns.length };
    } catch {
      return { commits: 0 }; // older PostgreSQL: the counters lag a little instead
    } finally {
      for (const conn of conns) conn.release();
    }
  }

  serve({ setup, collect, flushStats, stats: async () => ({ requests: { ...requests }, processed }) }, async () => {
    await consumer?.disconnect();
    await db?.end();
  });
}

if (role === 'producer') producerRole();
else if (role === 'consumer') consumerRole();
else {
  process.stderr.write(`floor-worker: role must be producer or consumer, got ${role}\n`);
  process.exit(2);
}
