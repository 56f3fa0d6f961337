'use strict';
// Runs the floor: its topics (same names and partition counts as the system's,
// under `<prefix>floor.`), a scratch database, one producer process and one
// consumer process per consumer group, and a sweep step like the system's.
const { join } = require('node:path');
const { Client } = require('pg');
const { Child } = require('./child.cjs');
const { messagesOfOrder } = require('./floor-work.cjs');
const { pgCounters, diffCounters, topicEnds, cpuSnapshot, cpuDelta } = require('./observe.cjs');
const { requestsPerOrder } = require('./brokers.cjs');
const { rssMb } = require('./procfs.cjs');
const { latencySummary, perOrder, sustainedVerdict } = require('./stats.cjs');
const { SERVICE_NODE_FLAGS } = require('@orderflow/testkit');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const WORKER = join(__dirname, 'floor-worker.cjs');

async function waitForLeaders(admin, topics, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch {
      // a KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION until it applied the new topics
    }
    if (Date.now() > deadline) throw new Error(`floor topics have no leaders after ${timeoutMs} ms`);
    await sleep(100);
  }
}

class FloorRig {
  /**
   * @param o.work          deriveFloorWork(...) result
   * @param o.admin         connected kafkajs admin
   * @param o.brokers       broker list
   * @param o.prefix        the bench's topic prefix; the floor uses `${prefix}floor.`
   * @param o.serverUrl     PostgreSQL server URL (no database)
   * @param o.database      scratch database name
   * @param o.stats         CountingClient on the `postgres` database
   * @param o.postmaster, o.brokerPid   for CPU accounting (the Kafka broker's pid)
   * @param o.onProgress    (text) => void
   */
  constructor(o) {
    Object.assign(this, o);
    this.floorPrefix = `${o.prefix}floor.`;
    this.children = [];
    this.nextOrder = 0;
    this.expectedDeliveries = 0;
    this.processedByConsumer = new Map();
    this.deliveries = new Map(); // order → [sentAt, lastFinish, deliveries seen]
    this.groupsByTopic = {};
    for (const g of o.work.groups) for (const t of g.topics) this.groupsByTopic[t] = (this.groupsByTopic[t] ?? 0) + 1;
  }

  get processed() {
    let n = 0;
    for (const v of this.processedByConsumer.values()) n += v;
    return n;
  }

  /** Messages order n yields to all groups together: when the floor has seen that many, it is done. */
  deliveriesOf(n) {
    let d = 0;
    for (const [topic, p] of Object.entries(this.work.producedPerOrder))
      d += messagesOfOrder(n, p) * (this.groupsByTopic[topic] ?? 0);
    return d;
  }

  async setup() {
    const { work, admin } = this;
    // Same partition count as the system's topic, so consumers see the same parallelism.
    const realTopics = Object.keys(work.producedPerOrder);
    const meta = await admin.fetchTopicMetadata({ topics: realTopics.map((t) => `${this.prefix}${t}`) });
    const partitions = Object.fromEntries(meta.topics.map((t) => [t.name.slice(this.prefix.length), t.partitions.length]));
    const topics = realTopics.map((t) => ({
      topic: `${this.floorPrefix}${t}`,
      numPartitions: partitions[t] || 3,
      replicationFactor: 1,
    }));
    await admin.createTopics({ topics, waitForLeaders: false });
    await waitForLeaders(
      admin,
      topics.map((t) => t.topic),
    );

    const server = new Client({ connectionString: `${this.serverUrl}/postgres` });
    server.on('error', () => undefined);
    await server.connect();
    try {
      await server.query(`CREATE DATABASE "${this.database}"`);
    } finally {
      await server.end();
    }
    const db = new Client({ connectionString: `${this.serverUrl}/${this.database}` });
    db.on('error', () => undefined);
    await db.connect();
    try {
      await db.query(
        'CREATE TABLE floor_rows (id bigserial PRIMARY KEY, v jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
      );
      await db.query('CREATE TABLE floor_state (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0)');
      await db.query('INSERT INTO floor_state (id) SELECT generate_series(0, $1::int - 1)', [work.groups.length * 1000]);
    } finally {
      await db.end();
    }

    // The floor's processes run node as the services do: the comparison is of the work, not of the heap settings.
    const execArgv = [...process.execArgv, ...SERVICE_NODE_FLAGS];
    this.producer = new Child(WORKER, ['producer'], {
      name: 'floor producer',
      execArgv,
      onProgress: (p) =>
        this.onProgress(
          `sent ${p.sent}/${p.total} orders, acked ${p.accepted}, failed ${p.refused}; ${this.processed} messages consumed so far`,
        ),
    });
    this.consumers = work.groups.map(
      (g, i) =>
        new Child(WORKER, ['consumer'], {
          name: `floor consumer ${g.name}`,
          execArgv,
          onProgress: (p) => this.processedByConsumer.set(i, p.processed),
        }),
    );
    this.children.push(this.producer, ...this.consumers);
    await Promise.all(this.children.map((c) => c.ready));
    await this.producer.request('setup', {
      brokers: this.brokers,
      topics: Object.fromEntries(Object.entries(work.producedPerOrder).map(([t, p]) => [`${this.floorPrefix}${t}`, p])),
      valueBytes: work.valueBytes,
      headerBytes: work.headerBytes,
      headerCount: work.headerCount,
    });
    await Promise.all(
      work.groups.map((g, i) =>
        this.consumers[i].request('setup', {
          brokers: this.brokers,
          groupId: `${this.floorPrefix}${g.name}`,
          topics: g.topics.map((t) => `${this.floorPrefix}${t}`),
          perDelivery: work.perDelivery,
          databaseUrl: `${this.serverUrl}/${this.database}`,
          index: i,
          valueBytes: work.valueBytes,
          concurrency: Math.max(...g.topics.map((t) => partitions[t] || 3)),
        }),
      ),
    );
  }

  async requestCounts() {
    const replies = await Promise.all(this.children.map((c) => c.request('stats')));
    const total = {};
    for (const r of replies) for (const [api, n] of Object.entries(r.requests)) total[api] = (total[api] ?? 0) + n;
    for (const [i, r] of replies.slice(1).entries()) this.processedByConsumer.set(i, r.processed);
    return total;
  }

  cpu() {
    return cpuSnapshot({
      pids: () => ({ producer: this.producer.pid, ...Object.fromEntries(this.consumers.map((c, i) => [`consumer${i}`, c.pid])) }),
      postmaster: this.postmaster,
      broker: this.brokerPid,
    });
  }

  async collect() {
    const replies = await Promise.all(this.consumers.map((c) => c.request('collect')));
    for (const [i, r] of replies.entries()) {
      this.processedByConsumer.set(i, r.processed);
      for (let k = 0; k < r.orders.length; k++) {
        const seen = this.deliveries.get(r.orders[k]);
        if (seen) {
          seen[1] = Math.max(seen[1], r.finishedAt[k]);
          seen[2] += r.counts[k];
        } else this.deliveries.set(r.orders[k], [r.sentAt[k], r.finishedAt[k], r.counts[k]]);
      }
    }
  }

  /** One rate: same shape of result as a system step. */
  async step(rate, seconds, drainTimeoutMs) {
    const pgBefore = await pgCounters(this.stats, [this.database]);
    const reqBefore = await this.requestCounts();
    const endsBefore = await topicEnds(this.admin, this.floorPrefix);
    const cpuBefore = this.cpu();
    const first = this.nextOrder;
    const result = await this.producer.request('run', { rate, seconds, firstNumber: first });
    this.nextOrder += result.sent;
    for (let n = first; n < first + result.sent; n++) this.expectedDeliveries += this.deliveriesOf(n);
    const drainDeadline = result.lastSendAt + drainTimeoutMs;
    let lastPrint = 0;
    while (this.processed < this.expectedDeliveries && Date.now() < drainDeadline) {
      if (Date.now() - lastPrint > 2_000) {
        lastPrint = Date.now();
        this.onProgress(`draining: ${this.expectedDeliveries - this.processed} deliveries left`);
      }
      await sleep(100);
    }
    const cpuAfter = this.cpu();
    await this.collect();
    const flushes = await Promise.all(this.consumers.map((c) => c.request('flushStats')));
    await sleep(300);
    const pgAfter = await pgCounters(this.stats, [this.database]);
    pgAfter.commits -= flushes.reduce((n, f) => n + f.commits, 0);
    const reqAfter = await this.requestCounts();
    const endsAfter = await topicEnds(this.admin, this.floorPrefix);

    const latencies = [];
    let pending = 0;
    let lastFinish = 0;
    for (let n = first; n < first + result.accepted + result.failed; n++) {
      const d = this.deliveries.get(n);
      if (!d || d[2] < this.deliveriesOf(n)) {
        pending++;
        continue;
      }
      latencies.push(d[1] - d[0]);
      lastFinish = Math.max(lastFinish, d[1]);
    }
    const accepted = result.accepted;
    const done = latencies.length;
    const sendSeconds = (result.lastSendAt - result.firstSendAt) / 1000 + 1 / rate;
    const cpu = cpuDelta(cpuBefore, cpuAfter);
    const consumersMs = Object.entries(cpu.ms)
      .filter(([k]) => k.startsWith('consumer'))
      .reduce((n, [, v]) => n + (v ?? 0), 0);
    const split = { producer: cpu.ms.producer, consumers: consumersMs, postgres: cpu.ms.postgres, broker: cpu.ms.broker };
    const total = Object.values(split).reduce((n, v) => n + (v ?? 0), 0);
    const pg = diffCounters(pgBefore, pgAfter);
    const produced = Object.keys(endsAfter).reduce((n, t) => n + (endsAfter[t] - (endsBefore[t] ?? 0)), 0);
    const latency = latencySummary(latencies);
    const drainMs = pending === 0 && done > 0 ? Math.max(0, lastFinish - result.lastSendAt) : undefined;
    const verdict = sustainedVerdict({ offered: result.sent, accepted, pending, drainMs, p99: latency.p99 });
    return {
      rate,
      seconds,
      offered: result.sent,
      accepted,
      statusCounts: { 202: accepted, ...Object.fromEntries(Object.entries(result.errors).map(([k, v]) => [k, v])) },
      offeredPerSec: result.sent / sendSeconds,
      acceptedPerSec: accepted / sendSeconds,
      completedPerSec: done > 0 ? done / ((lastFinish - result.firstSendAt) / 1000) : 0,
      terminal: done,
      pending,
      gaveUp: pending > 0,
      drainTimeoutMs,
      drainMs,
      latency,
      lateMs: result.lateMs,
      cpu: {
        wallMs: cpu.wallMs,
        perOrder: {
          ...Object.fromEntries(Object.entries(split).map(([k, v]) => [k, perOrder(v, accepted)])),
          total: perOrder(total, accepted),
        },
        benchPerOrder: perOrder(cpu.bench, accepted),
        otherMsPerSec: ((cpu.machine - total - cpu.bench) / cpu.wallMs) * 1000,
      },
      pg: {
        commitsPerOrder: perOrder(pg.commits, accepted),
        rowsPerOrder: perOrder(pg.inserted + pg.updated + pg.deleted, accepted),
      },
      producedPerOrder: perOrder(produced, accepted),
      brokerRssMb: rssMb(this.brokerPid),
      requests: requestsPerOrder(
        Object.fromEntries(Object.entries(reqAfter).map(([api, n]) => [api, n - (reqBefore[api] ?? 0)])),
        accepted,
      ),
      sustained: verdict.sustained,
      reasons: verdict.reasons,
    };
  }

  async stop() {
    await Promise.all(this.children.map((c) => c.stop().catch(() => undefined)));
  }
}

module.exports = { FloorRig };
