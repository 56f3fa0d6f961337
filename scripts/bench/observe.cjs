'use strict';
// What the bench reads from outside the services, none of it internals of the
// event pipeline: CPU and memory from /proc, counters from PostgreSQL's
// statistics views and the broker, each service's /metrics, and the orders
// service's event log (the time of OrderPlaced and of the terminal event).
const { Client } = require('pg');
const { allProcesses, treeMs, machineBusyMs } = require('./procfs.cjs');
const { hopTimes } = require('./stats.cjs');

const TERMINAL = ['OrderCompleted', 'OrderCancelled'];

/**
 * A pg connection that counts its own transactions, so they can be subtracted
 * from pg_stat_database.xact_commit (every autocommit query is one).
 */
class CountingClient {
  constructor(connectionString) {
    this.client = new Client({ connectionString });
    this.client.on('error', () => undefined);
    this.queries = 0;
    this.connected = false;
  }

  async connect() {
    await this.client.connect();
    this.connected = true;
  }

  async query(sql, params) {
    // pg queues a query on a client that never connected until it does: fail instead of hanging.
    if (!this.connected) throw new Error('not connected');
    this.queries++;
    return (await this.client.query(sql, params)).rows;
  }

  async end() {
    if (!this.connected) return;
    this.connected = false;
    await this.client.end().catch(() => undefined);
  }
}

/** The orders service's event log: when each order was placed and became terminal. */
class OrderEvents {
  constructor(connectionString) {
    this.db = new CountingClient(connectionString);
    this.terminal = new Map(); // orderId → { type, time }
    this.seenUpTo = 0;
  }

  connect() {
    return this.db.connect();
  }

  async maxPosition() {
    const [row] = await this.db.query('SELECT COALESCE(max(global_position), 0)::text AS p FROM events');
    return Number(row.p);
  }

  static timeOf(row) {
    const t = row.time ? Date.parse(row.time) : NaN;
    return Number.isFinite(t) ? t : new Date(row.recorded_at).getTime();
  }

  /**
   * Terminal events recorded since `from`. Positions come from a sequence and
   * transactions commit out of order, so each poll looks back a window behind
   * the highest position seen; the final per-step read (stepEvents) has no window.
   */
  async pollTerminal(from, lookback = 20_000) {
    const since = Math.max(from, this.seenUpTo - lookback);
    const rows = await this.db.query(
      `SELECT global_position::text AS pos, COALESCE(metadata->>'subject', data->>'orderId') AS order_id, type, metadata->>'time' AS time, recorded_at
         FROM events WHERE global_position > $1 AND type = ANY($2)`,
      [since, TERMINAL],
    );
    for (const r of rows) {
      this.seenUpTo = Math.max(this.seenUpTo, Number(r.pos));
      if (!this.terminal.has(r.order_id)) this.terminal.set(r.order_id, { type: r.type, time: OrderEvents.timeOf(r) });
    }
  }

  /**
   * Placed and terminal times of every order whose events lie after `from`, and
   * where the time goes: for each event type in the orders' streams, the
   * milliseconds from OrderPlaced to the event's own time (`made`, when the
   * service that decided it made it) and to its recorded_at (`stored`, when the
   * orders service's transaction that stored it began), summarised over the
   * step's orders (`hopTimes`).
   */
  async stepEvents(from) {
    const rows = await this.db.query(
      `SELECT COALESCE(metadata->>'subject', data->>'orderId') AS order_id, type, metadata->>'time' AS time, recorded_at
         FROM events WHERE global_position > $1`,
      [from],
    );
    const placed = new Map();
    for (const r of rows) {
      if (r.type === 'OrderPlaced') placed.set(r.order_id, OrderEvents.timeOf(r));
      else if (TERMINAL.includes(r.type) && !this.terminal.has(r.order_id)) {
        this.terminal.set(r.order_id, { type: r.type, time: OrderEvents.timeOf(r) });
      }
    }
    const hops = hopTimes(
      placed,
      rows.map((r) => ({
        orderId: r.order_id,
        type: r.type,
        made: OrderEvents.timeOf(r),
        stored: new Date(r.recorded_at).getTime(),
      })),
    );
    return { placed, hops };
  }

  end() {
    return this.db.end();
  }
}

/** Transactions and rows written in a set of databases (pg_stat_database; read from `postgres`). */
async function pgCounters(statsClient, databases) {
  await statsClient.query('SELECT pg_stat_clear_snapshot()');
  const rows = await statsClient.query(
    `SELECT datname, xact_commit::text AS commits, tup_inserted::text AS inserted, tup_updated::text AS updated, tup_deleted::text AS deleted
       FROM pg_stat_database WHERE datname = ANY($1)`,
    [databases],
  );
  const total = { commits: 0, inserted: 0, updated: 0, deleted: 0 };
  for (const r of rows) for (const k of Object.keys(total)) total[k] += Number(r[k]);
  return total;
}

const diffCounters = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));

const REQUESTS_METRIC = 'orderflow_broker_requests_total';

/**
 * Sums `orderflow_broker_requests_total{client="…",api="X"}` over label sets
 * (clients), by api. Returns undefined when the service does not export it.
 */
function parseBrokerRequests(text) {
  let found = false;
  const byApi = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(REQUESTS_METRIC)) continue;
    const m = /^orderflow_broker_requests_total(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    found = true;
    const api = /(?:^|,)\s*api="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? 'unknown';
    byApi[api] = (byApi[api] ?? 0) + Number(m[2]);
  }
  return found ? byApi : undefined;
}

const PHASES_METRIC = 'orderflow_consumer_batch_phase_seconds_total';

/**
 * Seconds the service's consumer spent in each phase of its units of work
 * (`orderflow_consumer_batch_phase_seconds_total{phase="load|handle|write"}`),
 * undefined when the service does not export it.
 */
function parseBatchPhases(text) {
  let found = false;
  const phases = { load: 0, handle: 0, write: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith(PHASES_METRIC)) continue;
    const m = /^\w+\{([^}]*)\}\s+(\S+)/.exec(line);
    const phase = m && /(?:^|,)\s*phase="([^"]*)"/.exec(m[1])?.[1];
    if (!phase || !(phase in phases)) continue;
    found = true;
    phases[phase] += Number(m[2]);
  }
  return found ? phases : undefined;
}

const LOOP_DELAY_METRICS = {
  minMs: 'nodejs_eventloop_lag_min_seconds',
  meanMs: 'nodejs_eventloop_lag_mean_seconds',
  p99Ms: 'nodejs_eventloop_lag_p99_seconds',
  maxMs: 'nodejs_eventloop_lag_max_seconds',
};

/**
 * How late the service's event loop ran a timer since the previous scrape
 * (prom-client resets its delay histogram on every scrape), in ms: { meanMs,
 * p99Ms, maxMs }; undefined when the service does not export them. Node records
 * the time between two ticks of its sampling timer, period included (100 ms in
 * our services), so the shortest one seen (`min`) is taken off as that period.
 */
function parseLoopDelay(text) {
  const values = {};
  for (const line of text.split('\n')) {
    // `name value` or, with the registry's default labels, `name{…} value`.
    const m = /^(\w+)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    const key = m && Object.keys(LOOP_DELAY_METRICS).find((k) => LOOP_DELAY_METRICS[k] === m[1]);
    if (key) values[key] = Number(m[2]) * 1000;
  }
  if (!Object.keys(LOOP_DELAY_METRICS).every((key) => Number.isFinite(values[key]))) return undefined;
  const late = (ms) => Math.max(0, ms - values.minMs);
  return { meanMs: late(values.meanMs), p99Ms: late(values.p99Ms), maxMs: late(values.maxMs) };
}

/** What the bench reads from a service's /metrics: { requests, phases, loopDelay }, each undefined when absent or unreachable. */
async function scrapeServiceMetrics(url) {
  const none = { requests: undefined, phases: undefined, loopDelay: undefined };
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return none;
    const text = await response.text();
    return { requests: parseBrokerRequests(text), phases: parseBatchPhases(text), loopDelay: parseLoopDelay(text) };
  } catch {
    return none;
  }
}

/** { service: { meanMs, p99Ms, maxMs } } from the scrapes at the end of a step (each covers the step: the one at its start reset them). */
function loopDelayOf(services, after) {
  const delay = {};
  services.forEach((service, i) => {
    if (after[i]?.loopDelay) delay[service] = after[i].loopDelay;
  });
  return Object.keys(delay).length ? delay : undefined;
}

/**
 * Share of `wallMs` each service's consumer was busy, and in which phase:
 * { service: { busy, load, handle, write } } as fractions, for the services that reported at both ends.
 */
function consumerBusy(services, before, after, wallMs) {
  const busy = {};
  for (let i = 0; i < services.length; i++) {
    const a = before[i]?.phases;
    const b = after[i]?.phases;
    if (!a || !b || !(wallMs > 0)) continue;
    const share = (phase) => Math.max(0, (b[phase] - a[phase]) * 1000) / wallMs;
    const entry = { load: share('load'), handle: share('handle'), write: share('write') };
    busy[services[i]] = { busy: entry.load + entry.handle + entry.write, ...entry };
  }
  return Object.keys(busy).length ? busy : undefined;
}

/**
 * Requests by api over a step, summed over the services that reported at both
 * ends: { byApi, services } (undefined when none did).
 */
function requestDelta(before, after) {
  const byApi = {};
  let services = 0;
  for (let i = 0; i < after.length; i++) {
    if (!before[i] || !after[i]) continue;
    services++;
    for (const [api, n] of Object.entries(after[i])) byApi[api] = (byApi[api] ?? 0) + n - (before[i][api] ?? 0);
  }
  return services ? { byApi, services } : undefined;
}

/** Sum of the high watermarks of each topic whose name starts with `prefix`. */
async function topicEnds(admin, prefix, filter = () => true) {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix) && filter(t.slice(prefix.length)));
  const ends = {};
  for (const topic of topics) {
    ends[topic.slice(prefix.length)] = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  }
  return ends;
}

/** Committed offsets of every consumer group named `prefix…`, summed per topic: { group: { topic: n } }. */
async function groupOffsets(admin, prefix, filter = () => true) {
  const { groups } = await admin.listGroups();
  const result = {};
  for (const { groupId } of groups) {
    if (!groupId.startsWith(prefix) || !filter(groupId.slice(prefix.length))) continue;
    const byTopic = {};
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId })) {
      if (!topic.startsWith(prefix)) continue;
      byTopic[topic.slice(prefix.length)] = partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    }
    result[groupId.slice(prefix.length)] = byTopic;
  }
  return result;
}

/** Messages each group still has to read: Σ (end − committed) over the topics it reads. */
function lagOf(ends, offsets) {
  let lag = 0;
  for (const byTopic of Object.values(offsets))
    for (const [topic, done] of Object.entries(byTopic)) lag += Math.max(0, (ends[topic] ?? 0) - done);
  return lag;
}

/**
 * CPU ms by process at one instant. `pids()` names the processes to measure
 * (services, floor workers, load generator); PostgreSQL is the postmaster's tree
 * (see treeMs) and `broker` the broker's process (Kafka's or ElasticMQ's JVM,
 * RabbitMQ's Erlang VM) with its helpers.
 */
function cpuSnapshot({ pids, postmaster, broker }) {
  const processes = allProcesses();
  const ms = {};
  for (const [name, pid] of Object.entries(pids())) ms[name] = pid ? treeMs(pid, processes) : undefined;
  ms.postgres = postmaster ? treeMs(postmaster, processes) : undefined;
  ms.broker = broker ? treeMs(broker, processes) : undefined;
  const self = process.cpuUsage();
  return { at: Date.now(), ms, machine: machineBusyMs(), bench: (self.user + self.system) / 1000 };
}

function cpuDelta(a, b) {
  const ms = {};
  for (const name of Object.keys(b.ms))
    ms[name] = a.ms[name] === undefined || b.ms[name] === undefined ? undefined : b.ms[name] - a.ms[name];
  return { wallMs: b.at - a.at, ms, machine: b.machine - a.machine, bench: b.bench - a.bench };
}

module.exports = {
  CountingClient,
  OrderEvents,
  pgCounters,
  diffCounters,
  parseBrokerRequests,
  parseBatchPhases,
  scrapeServiceMetrics,
  parseLoopDelay,
  loopDelayOf,
  consumerBusy,
  requestDelta,
  topicEnds,
  groupOffsets,
  lagOf,
  cpuSnapshot,
  cpuDelta,
  TERMINAL,
};
