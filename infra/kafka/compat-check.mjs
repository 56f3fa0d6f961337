#!/usr/bin/env node
// kafkajs <-> broker compatibility check.
//
// Exercises every Kafka feature the project relies on through kafkajs against KAFKA_BROKERS
// (default 127.0.0.1:9092) using its own random topic + group names, cleans up after itself,
// and prints PASS/FAIL per capability plus a final "N passed, N failed" line.
// Exit code: 0 = all passed, 1 = something failed, 2 = kafkajs not installed.
//
//   bash infra/kafka/kafka.sh start
//   node infra/kafka/compat-check.mjs                 # kafkajs resolved from the repo's node_modules
//   KAFKA_BROKERS=host:9092 node infra/kafka/compat-check.mjs
//   COMPAT_LOG_LEVEL=debug node infra/kafka/compat-check.mjs   # stream kafkajs logs live
//
// Why it exists: Kafka 4.x removed many old protocol versions (KIP-896). kafkajs 2.2.4 is
// unmaintained and negotiates versions via ApiVersions, so every request type we use is
// exercised here. Result against Kafka 4.3.1 (the version pinned in infra/kafka/pom.xml):
// all checks PASS with kafkajs 2.2.4.

import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);

// kafkajs 2.x prints a partitioner-change warning on every producer unless told not to.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

function loadKafkajs() {
  // Normal case: resolve from the repo (infra/kafka -> ../../node_modules). Fallback: from the cwd,
  // so the script can also be run from a scratch dir that has kafkajs installed.
  for (const base of [null, process.cwd()]) {
    try {
      const entry = base ? require.resolve('kafkajs', { paths: [base] }) : require.resolve('kafkajs');
      const pkgPath = base
        ? require.resolve('kafkajs/package.json', { paths: [base] })
        : require.resolve('kafkajs/package.json');
      return { lib: require(entry), version: require(pkgPath).version };
    } catch {
      /* try next */
    }
  }
  console.error('FAIL: kafkajs is not installed (npm install in the repo, or run from a dir with node_modules/kafkajs)');
  process.exit(2);
}

const { lib: kafkajs, version: kafkajsVersion } = loadKafkajs();
const { Kafka, logLevel, Partitioners } = kafkajs;

const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092')
  .split(',')
  .map((s) => s.trim().replace(/^[a-z]+:\/\//i, ''))
  .filter(Boolean);
const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const topic = `compat-check-${runId}`;
const groupId = `compat-check-group-${runId}`;
const PARTITIONS = 3;
const STEP_TIMEOUT_MS = Number(process.env.COMPAT_STEP_TIMEOUT_MS || 45000);

// ---- kafkajs logs: buffered, only shown on failure (or live with COMPAT_LOG_LEVEL) ---------
const liveLevel = { debug: logLevel.DEBUG, info: logLevel.INFO, warn: logLevel.WARN, error: logLevel.ERROR }[
  (process.env.COMPAT_LOG_LEVEL || '').toLowerCase()
];
const logBuffer = [];
const levelName = { [logLevel.ERROR]: 'ERROR', [logLevel.WARN]: 'WARN', [logLevel.INFO]: 'INFO', [logLevel.DEBUG]: 'DEBUG' };
const logCreator = () => ({ namespace, level, log }) => {
  const { message, timestamp, logger, ...extra } = log;
  const line = `${timestamp} ${levelName[level]} [${namespace}] ${message} ${JSON.stringify(extra)}`;
  if (liveLevel !== undefined) {
    if (level <= liveLevel) console.error(line);
    return;
  }
  logBuffer.push(line);
  if (logBuffer.length > 200) logBuffer.shift();
};

const kafka = new Kafka({
  clientId: `compat-check-${runId}`,
  brokers,
  connectionTimeout: 5000,
  requestTimeout: 30000,
  logLevel: liveLevel ?? logLevel.INFO,
  logCreator,
  retry: { retries: 5, initialRetryTime: 200 },
});

// ---- tiny test harness ---------------------------------------------------------------------
const results = [];
const failed = new Set();

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function waitFor(predicate, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function describeError(e) {
  const bits = [e?.name, e?.type, e?.code !== undefined ? `code=${e.code}` : null].filter(Boolean);
  return `${bits.length ? `[${bits.join(' ')}] ` : ''}${e?.message ?? e}`;
}

async function step(key, title, needs, fn) {
  const missing = needs.filter((n) => failed.has(n) || !results.find((r) => r.key === n));
  if (missing.length) {
    results.push({ key, title, status: 'SKIP', detail: `needs: ${missing.join(', ')}`, ms: 0 });
    failed.add(key);
    print(results.at(-1));
    return;
  }
  const t0 = Date.now();
  try {
    const detail = await withTimeout(Promise.resolve().then(fn), STEP_TIMEOUT_MS, title);
    results.push({ key, title, status: 'PASS', detail: detail ?? '', ms: Date.now() - t0 });
  } catch (e) {
    failed.add(key);
    results.push({ key, title, status: 'FAIL', detail: describeError(e), ms: Date.now() - t0 });
  }
  print(results.at(-1));
}

function print(r) {
  console.log(`${r.status.padEnd(4)}  ${r.title.padEnd(62)} ${String(r.ms).padStart(6)} ms  ${r.detail}`);
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

// ---- clients & shared state ----------------------------------------------------------------
const admin = kafka.admin();
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
});
const consumers = [];
const produced = new Map(); // partition -> number of messages produced so far
let topicCreated = false;
let topicDeleted = false;
let groupDeleted = false;

function newConsumer() {
  const c = kafka.consumer({
    groupId,
    sessionTimeout: 10000,
    rebalanceTimeout: 15000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 500, // kafkajs heartbeats between fetches: short fetch waits = quick rebalances
    retry: { retries: 8, initialRetryTime: 200 },
  });
  consumers.push(c);
  return c;
}

async function produce(perPartition, tag) {
  const messages = [];
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = 0; i < perPartition; i++) {
      messages.push({ partition: p, key: `key-${p}-${tag}-${i}`, value: JSON.stringify({ runId, tag, p, i }) });
    }
  }
  const meta = await producer.send({ topic, acks: -1, messages });
  for (let p = 0; p < PARTITIONS; p++) produced.set(p, (produced.get(p) ?? 0) + perPartition);
  return meta;
}

async function committedOffsets() {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] });
  const t = res.find((x) => x.topic === topic);
  assert(t, `fetchOffsets returned no entry for ${topic}: ${JSON.stringify(res)}`);
  return Object.fromEntries(t.partitions.map((p) => [p.partition, p.offset]));
}

// ---- the checks ----------------------------------------------------------------------------
async function main() {
  console.log(`kafkajs ${kafkajsVersion} compatibility check against ${brokers.join(',')}`);
  console.log(`topic=${topic} group=${groupId}\n`);

  await step('connect', 'admin.connect + describeCluster (ApiVersions negotiation)', [], async () => {
    await admin.connect();
    const c = await admin.describeCluster();
    assert(c.brokers.length > 0, 'no brokers in describeCluster');
    return `clusterId=${c.clusterId} brokers=${c.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).join(',')} controller=${c.controller}`;
  });

  await step('create', 'admin.createTopics (numPartitions: 3, waitForLeaders)', ['connect'], async () => {
    const created = await admin.createTopics({
      waitForLeaders: true,
      timeout: 15000,
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    });
    assert(created === true, `createTopics returned ${created}`);
    topicCreated = true;
    return 'created';
  });

  await step('metadata', 'admin.fetchTopicMetadata', ['create'], async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const t = topics.find((x) => x.name === topic);
    assert(t, 'topic missing from metadata');
    assert(t.partitions.length === PARTITIONS, `expected ${PARTITIONS} partitions, got ${t.partitions.length}`);
    assert(t.partitions.every((p) => p.leader >= 0), `partition without leader: ${JSON.stringify(t.partitions)}`);
    return `partitions=${t.partitions.length} leaders=${t.partitions.map((p) => p.leader).join(',')}`;
  });

  await step('list', 'admin.listTopics', ['create'], async () => {
    const topics = await admin.listTopics();
    assert(topics.includes(topic), 'created topic not listed');
    return `${topics.length} topics, includes ours`;
  });

  await step('produce', 'producer.send idempotent (acks -1, maxInFlightRequests 1)', ['create'], async () => {
    await producer.connect();
    const meta = await produce(10, 'initial');
    assert(meta.length === PARTITIONS, `expected ${PARTITIONS} partition results, got ${JSON.stringify(meta)}`);
    assert(meta.every((m) => m.errorCode === 0 && m.baseOffset === '0'), `unexpected metadata ${JSON.stringify(meta)}`);
    // A second send on the same idempotent producer (sequence numbers > 0 must be accepted).
    const meta2 = await producer.send({
      topic,
      acks: -1,
      messages: [{ key: 'keyed-without-partition', value: 'x' }],
    });
    const p = meta2[0].partition;
    produced.set(p, produced.get(p) + 1);
    assert(meta2[0].errorCode === 0, `second send failed ${JSON.stringify(meta2)}`);
    return `30 msgs (10/partition) baseOffsets=${meta.map((m) => m.baseOffset).join(',')}; +1 keyed msg -> p${p}@${meta2[0].baseOffset}`;
  });

  await step('topicOffsets', 'admin.fetchTopicOffsets (high watermarks)', ['produce'], async () => {
    const offs = await admin.fetchTopicOffsets(topic);
    for (const o of offs) {
      assert(Number(o.high) === produced.get(o.partition), `p${o.partition} high=${o.high} expected ${produced.get(o.partition)}`);
    }
    return offs.map((o) => `p${o.partition}=${o.high}`).join(' ');
  });

  // Consumer #1: consume everything, but commit (manually) only offsets < 5 in each partition.
  const COMMIT_UPTO = 5;
  await step('consume', 'consumer subscribe + run (autoCommit false) consumes all', ['produce'], async () => {
    const c1 = newConsumer();
    const seen = new Map();
    let joined = null;
    c1.on(c1.events.GROUP_JOIN, (e) => {
      joined = e.payload;
    });
    await c1.connect();
    await c1.subscribe({ topics: [topic], fromBeginning: true });
    await c1.run({
      autoCommit: false,
      eachMessage: async ({ topic: t, partition, message }) => {
        seen.set(`${partition}:${message.offset}`, message);
        const next = Number(message.offset) + 1;
        if (next <= COMMIT_UPTO) {
          await c1.commitOffsets([{ topic: t, partition, offset: String(next) }]);
        }
      },
    });
    const total = [...produced.values()].reduce((a, b) => a + b, 0);
    await waitFor(() => seen.size >= total, 30000, `${total} messages (got ${seen.size})`);
    assert(joined, 'no GROUP_JOIN event');
    const assigned = joined.memberAssignment[topic] ?? [];
    assert(assigned.length === PARTITIONS, `expected all ${PARTITIONS} partitions assigned, got ${assigned}`);
    await c1.disconnect();
    return `${seen.size}/${total} msgs, joined as leader=${joined.isLeader}, assignment=[${assigned.join(',')}]`;
  });

  await step('commit', 'consumer.commitOffsets (manual) + admin.fetchOffsets', ['consume'], async () => {
    const offs = await committedOffsets();
    for (let p = 0; p < PARTITIONS; p++) {
      assert(offs[p] === String(COMMIT_UPTO), `p${p} committed=${offs[p]} expected ${COMMIT_UPTO}`);
    }
    return `committed ${Object.entries(offs).map(([p, o]) => `p${p}=${o}`).join(' ')}`;
  });

  // Consumer #2: a new member of the same group must resume from the committed offsets.
  let c2;
  const c2seen = new Map();
  await step('rejoin', 'consumer rejoin resumes from committed offsets + live msgs', ['commit'], async () => {
    c2 = newConsumer();
    await c2.connect();
    await c2.subscribe({ topics: [topic], fromBeginning: true });
    await c2.run({
      autoCommit: false,
      eachMessage: async ({ topic: t, partition, message }) => {
        c2seen.set(`${partition}:${message.offset}`, { partition, offset: Number(message.offset) });
        await c2.commitOffsets([{ topic: t, partition, offset: String(Number(message.offset) + 1) }]);
      },
    });
    const expectedResumed = [...produced.values()].reduce((a, b) => a + b, 0) - COMMIT_UPTO * PARTITIONS;
    await waitFor(() => c2seen.size >= expectedResumed, 30000, `${expectedResumed} resumed msgs (got ${c2seen.size})`);
    const minOffset = Math.min(...[...c2seen.values()].map((m) => m.offset));
    assert(minOffset === COMMIT_UPTO, `rejoined consumer started at offset ${minOffset}, expected ${COMMIT_UPTO}`);
    // live messages produced while the consumer is running
    await produce(1, 'live');
    const total = expectedResumed + PARTITIONS;
    await waitFor(() => c2seen.size >= total, 30000, `${total} msgs incl. live (got ${c2seen.size})`);
    return `resumed at offset ${minOffset} (${expectedResumed} old msgs), then ${PARTITIONS} live msgs`;
  });

  await step('rebalance', 'consumer group rebalance (2nd member joins)', ['rejoin'], async () => {
    const c3 = newConsumer();
    const assignments = new Map(); // consumer -> partitions (latest GROUP_JOIN)
    c2.on(c2.events.GROUP_JOIN, (e) => assignments.set('c2', e.payload.memberAssignment[topic] ?? []));
    c3.on(c3.events.GROUP_JOIN, (e) => assignments.set('c3', e.payload.memberAssignment[topic] ?? []));
    const c3seen = new Map();
    await c3.connect();
    await c3.subscribe({ topics: [topic], fromBeginning: true });
    await c3.run({
      autoCommit: false,
      eachMessage: async ({ topic: t, partition, message }) => {
        c3seen.set(`${partition}:${message.offset}`, true);
        await c3.commitOffsets([{ topic: t, partition, offset: String(Number(message.offset) + 1) }]);
      },
    });
    await waitFor(
      () => {
        const a2 = assignments.get('c2');
        const a3 = assignments.get('c3');
        return a2 && a3 && a2.length > 0 && a3.length > 0 && a2.length + a3.length === PARTITIONS;
      },
      30000,
      `both members to get a share of the partitions (${JSON.stringify([...assignments])})`,
    );
    const union = new Set([...assignments.get('c2'), ...assignments.get('c3')]);
    assert(union.size === PARTITIONS, `assignments overlap/miss partitions: ${JSON.stringify([...assignments])}`);
    const before2 = c2seen.size;
    await produce(2, 'rebalanced');
    await waitFor(
      () => c2seen.size - before2 + c3seen.size >= 2 * PARTITIONS,
      30000,
      `post-rebalance msgs (c2 +${c2seen.size - before2}, c3 ${c3seen.size})`,
    );
    await Promise.all([c2.disconnect(), c3.disconnect()]);
    const offs = await committedOffsets();
    for (let p = 0; p < PARTITIONS; p++) {
      assert(Number(offs[p]) === produced.get(p), `p${p} committed=${offs[p]} expected ${produced.get(p)}`);
    }
    return `c2=[${assignments.get('c2')}] c3=[${assignments.get('c3')}]; c2 +${c2seen.size - before2} msgs, c3 ${c3seen.size} msgs; committed=${Object.values(offs).join(',')}`;
  });

  await step('deleteGroups', 'admin.deleteGroups (cleanup)', ['consume'], async () => {
    for (const c of consumers) await c.disconnect().catch(() => {});
    const res = await admin.deleteGroups([groupId]);
    assert(res[0]?.errorCode === 0, JSON.stringify(res));
    groupDeleted = true;
    return 'deleted';
  });

  await step('delete', 'admin.deleteTopics', ['create'], async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic], timeout: 15000 });
    topicDeleted = true;
    await waitFor(async () => !(await admin.listTopics()).includes(topic), 15000, 'topic to disappear from listTopics');
    return 'deleted and gone from listTopics';
  });
}

async function cleanup() {
  for (const c of consumers) await c.disconnect().catch(() => {});
  await producer.disconnect().catch(() => {});
  try {
    if (!groupDeleted && consumers.length) await admin.deleteGroups([groupId]).catch(() => {});
    if (topicCreated && !topicDeleted) await admin.deleteTopics({ topics: [topic], timeout: 10000 }).catch(() => {});
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

let fatal = null;
try {
  await main();
} catch (e) {
  fatal = e;
} finally {
  await withTimeout(cleanup(), 30000, 'cleanup').catch((e) => console.error(`cleanup problem: ${describeError(e)}`));
}

const nPass = results.filter((r) => r.status === 'PASS').length;
const nFail = results.length - nPass;
if (fatal) console.error(`\nunexpected error: ${describeError(fatal)}`);
if ((nFail || fatal) && logBuffer.length) {
  console.error('\n----- last kafkajs log lines -----');
  for (const l of logBuffer.slice(-40)) console.error(l);
}
console.log(`\nSUMMARY (kafkajs ${kafkajsVersion} @ ${brokers.join(',')}): ${nFail || fatal ? 'FAIL' : 'PASS'}`);
console.log(`${nPass} passed, ${nFail} failed`);
process.exit(nFail || fatal ? 1 : 0);
