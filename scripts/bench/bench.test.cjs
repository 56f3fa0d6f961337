'use strict';
// Unit tests of the bench's pure helpers: `node --test scripts/bench/`.
// No I/O, no timing assertions.
const test = require('node:test');
const assert = require('node:assert/strict');
const { hopTimes, percentile, latencySummary, sustainedVerdict, maxSustained, shouldStop, perOrder } = require('./stats.cjs');
const { deriveFloorWork, messagesOfOrder, WorkCredit } = require('./floor-work.cjs');
const { parseBrokerRequests, parseBatchPhases, parseLoopDelay, loopDelayOf, consumerBusy, requestDelta, lagOf } = require('./observe.cjs');
const { parseOptions, OptionError, expectedSeconds } = require('./options.cjs');
const { renderSvg, table } = require('./report.cjs');
const { orderNumber, SKUS } = require('./workload.cjs');

test('percentile is nearest-rank over a sorted array', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 90), 90);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([], 50), undefined);
});

test('latencySummary sorts numerically and does not mutate its input', () => {
  const samples = [100, 9, 20, 3];
  const s = latencySummary(samples);
  assert.deepEqual(samples, [100, 9, 20, 3]);
  assert.deepEqual(s, { count: 4, p50: 9, p90: 100, p99: 100, max: 100 });
});

test('a rate is sustained only when all were accepted, drained within 10 s and p99 <= 1 s', () => {
  const ok = { offered: 100, accepted: 100, pending: 0, drainMs: 2_000, p99: 900 };
  assert.equal(sustainedVerdict(ok).sustained, true);
  assert.deepEqual(sustainedVerdict({ ...ok, accepted: 99 }).reasons, ['1 not accepted']);
  assert.equal(sustainedVerdict({ ...ok, drainMs: 10_001 }).sustained, false);
  assert.equal(sustainedVerdict({ ...ok, pending: 3, drainMs: undefined }).reasons[0], '3 not terminal');
  assert.equal(sustainedVerdict({ ...ok, p99: 1_001 }).sustained, false);
});

test('the sweep stops after two consecutive rates not sustained, and reports the best sustained', () => {
  const steps = [
    { rate: 50, sustained: true },
    { rate: 100, sustained: false },
    { rate: 200, sustained: true },
  ];
  assert.equal(shouldStop(steps), false);
  assert.equal(shouldStop([...steps, { rate: 400, sustained: false }, { rate: 800, sustained: false }]), true);
  assert.equal(maxSustained(steps), 200);
  assert.equal(maxSustained([{ rate: 50, sustained: false }]), undefined);
  assert.equal(perOrder(10, 0), undefined);
  assert.equal(perOrder(undefined, 5), undefined);
});

test('messagesOfOrder keeps the running total exact for fractional rates', () => {
  for (const p of [0.5, 1, 2.9, 4.15, 11.92]) {
    let total = 0;
    for (let n = 0; n < 1000; n++) total += messagesOfOrder(n, p);
    assert.equal(total, Math.floor(1000 * p + 1e-9), `per order ${p}`);
  }
});

test('WorkCredit pays the owed transactions and rows per batch, batching when under one per message', () => {
  const credit = new WorkCredit({ transactions: 0.25, inserted: 1, updated: 0.5, deleted: 0.25 });
  assert.deepEqual(credit.take(3), []); // 0.75 of a transaction owed: nothing yet
  const txs = credit.take(5); // 2 transactions owed in all, 8 inserts, 4 updates, 2 deletes
  assert.equal(txs.length, 2);
  assert.equal(
    txs.reduce((n, t) => n + t.inserted, 0),
    8,
  );
  assert.equal(
    txs.reduce((n, t) => n + t.updated, 0),
    4,
  );
  assert.equal(
    txs.reduce((n, t) => n + t.deleted, 0),
    2,
  );
  const many = new WorkCredit({ transactions: 3, inserted: 4, updated: 0, deleted: 1 }).take(2);
  assert.equal(many.length, 6);
  assert.equal(
    many.reduce((n, t) => n + t.inserted, 0),
    8,
  );
});

test('deriveFloorWork turns the measured sweep into per-order and per-message work', () => {
  const work = deriveFloorWork({
    orders: 100,
    producedByTopic: { 'orders.events': 300, 'payments.events': 100, 'orders.events.dlq': 0 },
    consumedByGroup: {
      payment: { 'orders.events': 300 },
      inventory: { 'orders.events': 300 },
      orders: { 'payments.events': 100 },
      stale: { 'orders.events.dlq': 0 },
    },
    rows: { inserted: 1000, updated: 200, deleted: 300 },
    commits: 1400,
    valueBytes: 250.4,
    headerBytes: 300,
    headerCount: 9.6,
  });
  assert.deepEqual(work.producedPerOrder, { 'orders.events': 3, 'payments.events': 1 });
  assert.deepEqual(
    work.groups.map((g) => [g.name, g.topics]),
    [
      ['inventory', ['orders.events']],
      ['orders', ['payments.events']],
      ['payment', ['orders.events']],
    ],
  );
  assert.equal(work.perOrder.produced, 4);
  assert.equal(work.perOrder.consumed, 7); // 3 × 2 groups + 1 × 1 group
  assert.equal(work.measuredConsumedPerOrder, 7);
  assert.equal(work.perOrder.transactions, 14);
  assert.equal(work.perDelivery.transactions, 2);
  assert.equal(work.perDelivery.inserted, 10 / 7);
  assert.equal(work.valueBytes, 250);
  assert.equal(work.headerCount, 10);
  assert.throws(() => deriveFloorWork({ orders: 0 }), /no accepted orders/);
});

test('parseBrokerRequests sums the counter by api over clients, undefined when absent', () => {
  const text = [
    '# HELP orderflow_broker_requests_total Requests made to the message broker',
    '# TYPE orderflow_broker_requests_total counter',
    'orderflow_broker_requests_total{client="producer",api="Produce"} 12',
    'orderflow_broker_requests_total{api="Produce",client="admin"} 3',
    'orderflow_broker_requests_total{client="consumer",api="OffsetCommit"} 5',
    'orderflow_events_published_total{service="orders"} 99',
  ].join('\n');
  assert.deepEqual(parseBrokerRequests(text), { Produce: 15, OffsetCommit: 5 });
  assert.equal(parseBrokerRequests('process_cpu_seconds_total 1\n'), undefined);
  // The old name is not read: a service still exporting it would be counted as not reporting.
  assert.equal(parseBrokerRequests('orderflow_kafka_requests_total{api="Produce"} 1\n'), undefined);
});

test('requestDelta sums a step over the services that reported at both ends', () => {
  const before = [{ publish: 10, ack: 4 }, undefined, { publish: 1 }];
  const after = [{ publish: 15, ack: 6, consume: 3 }, { publish: 99 }, { publish: 2 }];
  assert.deepEqual(requestDelta(before, after), { byApi: { publish: 6, ack: 2, consume: 3 }, services: 2 });
  assert.equal(requestDelta([undefined], [{ publish: 1 }]), undefined);
});

test('parseBatchPhases reads the seconds per phase, undefined when the service does not export them', () => {
  const text = [
    '# TYPE orderflow_consumer_batch_phase_seconds_total counter',
    'orderflow_consumer_batch_phase_seconds_total{phase="load",service="orders"} 2.5',
    'orderflow_consumer_batch_phase_seconds_total{phase="handle",service="orders"} 0.5',
    'orderflow_consumer_batch_phase_seconds_total{service="orders",phase="write"} 4',
    'orderflow_consumer_batch_size_count{service="orders"} 7',
  ].join('\n');
  assert.deepEqual(parseBatchPhases(text), { load: 2.5, handle: 0.5, write: 4 });
  assert.equal(parseBatchPhases('orderflow_consumer_batch_size_count 7\n'), undefined);
});

test('consumerBusy is each consumer\'s share of the step by phase, for services that reported at both ends', () => {
  const at = (load, handle, write) => ({ phases: { load, handle, write } });
  const busy = consumerBusy(['orders', 'payment', 'shipping'], [at(1, 1, 1), at(0, 0, 0), undefined], [at(6, 2, 11), at(1, 0, 1), at(1, 1, 1)], 20_000);
  assert.deepEqual(Object.keys(busy), ['orders', 'payment']);
  assert.deepEqual(busy.orders, { busy: 0.8, load: 0.25, handle: 0.05, write: 0.5 });
  assert.equal(busy.payment.busy, 0.1);
  assert.equal(consumerBusy(['orders'], [{}], [{}], 1000), undefined);
});

test('lagOf counts what each group still has to read', () => {
  assert.equal(lagOf({ a: 10, b: 5 }, { g1: { a: 7 }, g2: { a: 10, b: 1 } }), 3 + 4);
});

test('options: defaults, overrides, and errors that name the option', () => {
  const d = parseOptions([]);
  assert.deepEqual(d.rates, [50, 100, 200, 400, 600, 1200]);
  assert.equal(d.seconds, 20);
  assert.equal(d.floorSeconds, 10);
  assert.deepEqual(d.floorRates, d.rates);
  assert.equal(d.tracing, false);
  assert.equal(parseOptions(['--tracing']).tracing, true);
  assert.throws(() => parseOptions(['--tracing=yes']), /--tracing takes no value/);
  const o = parseOptions(['--rates', '20,50', '--seconds=10', '--no-floor']);
  assert.deepEqual(o.rates, [20, 50]);
  assert.equal(o.seconds, 10);
  assert.equal(o.floor, false);
  assert.throws(
    () => parseOptions(['--rates', '50,20']),
    (e) => e instanceof OptionError && /--rates/.test(e.message),
  );
  assert.throws(() => parseOptions(['--seconds', '-1']), /--seconds/);
  assert.throws(() => parseOptions(['--sockets', '2.5']), /--sockets/);
  assert.throws(() => parseOptions(['--frobnicate']), /unknown option --frobnicate/);
  assert.throws(() => parseOptions(['--rates']), /--rates/);
});

test('options: a warm-up of 20 s at 200 orders/s by default, the floor\'s at most 10 s, 0 skipping both', () => {
  const d = parseOptions([]);
  assert.equal(d.warmupSeconds, 20);
  assert.equal(d.warmupRate, 200);
  assert.equal(d.floorWarmupSeconds, 10);
  const off = parseOptions(['--warmup-seconds', '0']);
  assert.equal(off.warmupSeconds, 0);
  assert.equal(off.floorWarmupSeconds, 0);
  assert.equal(parseOptions(['--warmup-seconds=5', '--warmup-rate', '50']).floorWarmupSeconds, 5);
  assert.throws(() => parseOptions(['--warmup-rate', '0']), /--warmup-rate needs a positive number/);
  assert.throws(() => parseOptions(['--warmup-seconds', '-3']), /--warmup-seconds needs a non-negative number/);
  const budget = { budget: 10_000, idleSeconds: 0 };
  const withWarmup = expectedSeconds({ ...parseOptions(['--no-floor']), ...budget }).typical;
  const without = expectedSeconds({ ...parseOptions(['--no-floor', '--warmup-seconds', '0']), ...budget }).typical;
  assert.ok(withWarmup - without >= 20, `the estimate counts the warm-up (${withWarmup} vs ${without} s)`);
});

test('options: --broker takes one broker, a list or all, kafka by default', () => {
  assert.deepEqual(parseOptions([]).brokers, ['kafka']);
  assert.deepEqual(parseOptions(['--broker', 'sqs']).brokers, ['sqs']);
  assert.deepEqual(parseOptions(['--broker=all']).brokers, ['kafka', 'rabbitmq', 'sqs']);
  assert.deepEqual(parseOptions(['--broker', 'rabbitmq,kafka']).brokers, ['rabbitmq', 'kafka']);
  assert.throws(() => parseOptions(['--broker', 'nats']), /--broker: unknown broker "nats"/);
  assert.throws(() => parseOptions(['--broker', 'sqs,sqs']), /twice/);
  assert.throws(() => parseOptions(['--broker']), /--broker needs/);
});

test('the expected duration counts each broker, the floor on Kafka only, and the budget caps each', () => {
  const short = parseOptions(['--broker', 'all', '--rates', '50,100,200', '--seconds', '10', '--no-floor']);
  const one = expectedSeconds({ ...short, brokers: ['sqs'] }).typical;
  assert.equal(expectedSeconds(short).typical, 3 * one);
  const withFloor = parseOptions(['--broker', 'all', '--rates', '50,100,200', '--seconds', '10']);
  assert.ok(expectedSeconds(withFloor).typical > 3 * one);
  assert.equal(expectedSeconds({ ...withFloor, brokers: ['rabbitmq'] }).typical, one);
  const long = parseOptions(['--broker', 'all', '--budget', '60']);
  assert.equal(expectedSeconds(long).typical, 180);
  assert.ok(expectedSeconds(long).atMost >= 180);
});

test('the order mix has 1-3 lines of distinct SKUs and declines every tenth order', () => {
  const lines = new Set();
  for (let n = 0; n < 1000; n++) {
    const o = orderNumber(n);
    lines.add(o.items.length);
    assert.ok(o.items.length >= 1 && o.items.length <= 3);
    assert.equal(new Set(o.items.map((i) => i.sku)).size, o.items.length);
    assert.ok(o.items.every((i) => SKUS.includes(i.sku) && i.quantity >= 1 && i.quantity <= 2));
    assert.equal(o.payment.token, n % 10 === 9 ? 'tok_declined' : 'tok_visa');
  }
  assert.deepEqual([...lines].sort(), [1, 2, 3]);
});

test('the plot is standalone SVG and the table has a row per rate', () => {
  const step = (rate, sustained) => ({
    rate,
    sustained,
    offeredPerSec: rate,
    acceptedPerSec: rate,
    completedPerSec: rate * 0.9,
    statusCounts: { 202: rate * 10 },
    latency: { p50: 10, p90: 20, p99: 30, max: 40 },
    drainMs: 100,
    cpu: { perOrder: { total: 5 } },
    pg: { commitsPerOrder: 20 },
    requests: { produce: 0.5, ack: 1.25, total: 9 },
    brokerRssMb: 512.4,
  });
  const svg = renderSvg({
    title: 'a <title>',
    system: [step(50, true), step(100, false), { rate: 200, skipped: 'time budget' }],
    floor: [step(50, true)],
  });
  assert.match(svg, /^<\?xml[^]*<svg [^]*<\/svg>\n$/);
  assert.doesNotMatch(svg, /<script|href=|@import|url\(/);
  assert.match(svg, /a &lt;title&gt;/);
  assert.doesNotMatch(svg, /NaN|undefined/);
  const text = table([step(50, true), { rate: 100, skipped: 'two consecutive rates not sustained' }], { broker: 'RabbitMQ' });
  assert.equal(text.split('\n').length, 3);
  assert.match(text, /100 {2}skipped: two consecutive/);
  assert.match(text.split('\n')[0], /RabbitMQ ms\/order .*produce req\/order +ack req\/order +RabbitMQ RSS MB/);
  assert.match(text.split('\n')[1], / 0\.50 +1\.25 +512 +yes$/);
});

test('max sustained rates compare with the relation the sweep grid allows', () => {
  const { compareCapacity } = require('./stats.cjs');
  const sweep = (...verdicts) => verdicts.map(([rate, sustained]) => ({ rate, sustained }));
  const exact = compareCapacity(sweep([50, true], [100, false]), sweep([50, true], [100, true], [200, false]));
  assert.equal(exact.relation, '=');
  assert.equal(exact.ratio, 0.5);
  const floorAtTop = compareCapacity(sweep([50, true], [100, false]), sweep([50, true], [100, true]));
  assert.equal(floorAtTop.relation, '≤');
  const systemNone = compareCapacity(sweep([20, false], [50, false]), sweep([20, true], [50, false]));
  assert.deepEqual([systemNone.relation, systemNone.ratio, systemNone.system.below], ['<', 1, 20]);
  const floorNone = compareCapacity(sweep([20, true], [50, false]), sweep([20, false]));
  assert.equal(floorNone.relation, '>');
  const bothAtTop = compareCapacity(sweep([20, true]), sweep([20, true]));
  assert.equal(bothAtTop.relation, undefined);
  assert.equal(compareCapacity(sweep([20, false]), []).relation, undefined);
});

// ── brokers ─────────────────────────────────────────────────────────────────
const { brokerAddress, isBrokerProcess, requestsPerOrder } = require('./brokers.cjs');
const { commonRates, comparisonRate, comparisonTable, renderCompareSvg } = require('./compare.cjs');

// Command lines as /proc/<pid>/cmdline shows them (NULs as spaces), from machines the bench ran on.
const CMDLINES = {
  kafka:
    'java -Xms256m -Xmx1g -server -XX:+UseG1GC -Dkafka.logs.dir=/work/main/.cache/kafka/logs -cp /work/main/.cache/kafka/libs/* kafka.Kafka /work/main/.cache/kafka/config/server.properties',
  rabbitDebian:
    '/usr/lib/erlang/erts-13.1.5/bin/beam.smp -W w -MBas ageffcbf -P 1048576 -t 5000000 -B i -- -root /usr/lib/erlang -bindir /usr/lib/erlang/erts-13.1.5/bin -progname erl -- -home /var/lib/rabbitmq -- -pa  -noshell -noinput -s rabbit boot -boot start_sasl -syslog logger [] -noshell -noinput -- -kernel inet_dist_use_interface {127,0,0,1} -- ',
  rabbitSname:
    '/usr/local/lib/erlang/erts-14.2/bin/beam.smp -W w -K true -- -root /usr/local/lib/erlang -progname erl -- -home /root -- -pa -noshell -noinput -sname rabbit@myhost -boot /usr/local/lib/rabbitmq/releases/start_sasl -kernel inet_default_connect_options [{nodelay,true}]',
  elasticmq:
    'java -Xms64m -Xmx256m -XX:+UseSerialGC -Djava.awt.headless=true -Dconfig.file=/work/main/.cache/elasticmq/config/elasticmq.conf -cp /work/main/.cache/elasticmq/libs/* org.elasticmq.server.Main',
  epmd: '/usr/lib/erlang/erts-13.1.5/bin/epmd -daemon',
  erlChild: 'erl_child_setup 1024',
  otherBeam:
    '/usr/lib/erlang/erts-13.1.5/bin/beam.smp -- -root /usr/lib/erlang -progname erl -- -home /root -- -sname couch@localhost -s couch',
  rabbitCtl:
    '/usr/lib/erlang/erts-13.1.5/bin/beam.smp -B -- -root /usr/lib/erlang -progname erl -- -home /var/lib/rabbitmq -- -noshell -noinput -hidden -sname rabbitmqcli-595-rabbit@myhost -s rabbitmqctl_escript main',
  kafkaClient: 'node /work/wt/bench/scripts/bench/floor-worker.cjs producer',
  kafkaTool: 'java -cp /work/main/.cache/kafka/libs/* kafka.admin.TopicCommand --list',
  mvn: 'java -classpath /usr/share/maven/boot/plexus-classworlds-2.x.jar org.codehaus.plexus.classworlds.launcher.Launcher -f infra/elasticmq/pom.xml dependency:copy-dependencies',
  sh: 'bash infra/elasticmq/elasticmq.sh start org.elasticmq.server.Main',
};

test('the broker process is recognised by its command line, and nothing else is', () => {
  const matches = (broker) =>
    Object.entries(CMDLINES)
      .filter(([, cmd]) => isBrokerProcess(broker, cmd))
      .map(([name]) => name);
  assert.deepEqual(matches('kafka'), ['kafka']);
  assert.deepEqual(matches('rabbitmq'), ['rabbitDebian', 'rabbitSname']);
  assert.deepEqual(matches('sqs'), ['elasticmq']);
  assert.equal(isBrokerProcess('nats', CMDLINES.kafka), false);
});

test('brokerAddress reads the services’ variables with their defaults', () => {
  assert.deepEqual(brokerAddress('kafka', {}), { host: '127.0.0.1', port: 9092 });
  assert.deepEqual(brokerAddress('kafka', { KAFKA_BROKERS: 'k1:19092,k2:19092' }), { host: 'k1', port: 19092 });
  assert.deepEqual(brokerAddress('rabbitmq', {}), { host: '127.0.0.1', port: 5672 });
  assert.deepEqual(brokerAddress('rabbitmq', { RABBITMQ_URL: 'amqp://guest:guest@mq:5673/%2f' }), { host: 'mq', port: 5673 });
  assert.deepEqual(brokerAddress('sqs', {}), { host: '127.0.0.1', port: 9324 });
  assert.deepEqual(brokerAddress('sqs', { SQS_ENDPOINT: 'http://localhost:9325' }), { host: 'localhost', port: 9325 });
});

test('requestsPerOrder names produce and ack on every broker and lists the busiest apis', () => {
  const kafka = requestsPerOrder({ Produce: 50, Fetch: 400, OffsetCommit: 120, Heartbeat: 0 }, 100);
  assert.deepEqual([kafka.produce, kafka.ack, kafka.total], [0.5, 1.2, 5.7]);
  assert.deepEqual(kafka.top, [
    ['Fetch', 4],
    ['OffsetCommit', 1.2],
    ['Produce', 0.5],
  ]);
  const rabbit = requestsPerOrder({ publish: 30, ack: 60, declare: 10, consume: 4 }, 10);
  assert.deepEqual([rabbit.produce, rabbit.ack], [3, 6]);
  const sqs = requestsPerOrder({ SendMessageBatch: 20, SendMessage: 2, DeleteMessageBatch: 30, ReceiveMessage: 500 }, 10);
  assert.deepEqual([sqs.produce, sqs.ack, sqs.top[0][0]], [2.2, 3, 'ReceiveMessage']);
  assert.equal(requestsPerOrder(undefined, 10), undefined);
  assert.equal(requestsPerOrder({ Produce: 1 }, 0), undefined);
});

function brokerRun(broker, verdicts, extra = {}) {
  const system = verdicts.map(([rate, sustained, p99]) =>
    sustained === 'skipped'
      ? { rate, skipped: 'two consecutive rates not sustained' }
      : {
          rate,
          sustained,
          completedPerSec: sustained ? rate : rate / 2,
          latency: { p50: p99 / 3, p99 },
          cpu: {
            perOrder: { orders: 1, payment: 0.5, inventory: 0.5, shipping: 0.5, postgres: 2, broker: 1.5, total: 6 },
            otherMsPerSec: 12,
          },
          pg: { commitsPerOrder: 9 },
          requests: { produce: 0.4, ack: 0.9, total: 7.25 },
          brokerRssMb: 300 + rate,
        },
  );
  return {
    broker,
    system,
    idle: { percentOfOneCore: { total: 1.5 }, broker: 0.8, pgCommitsPerSec: 2 },
    invariants: { ok: true, violations: [] },
    ...extra,
  };
}

test('brokers are compared at the rates they all ran, costs at the highest rate all sustained', () => {
  const kafka = brokerRun('kafka', [
    [50, true, 90],
    [100, true, 120],
    [200, true, 300],
  ]);
  const rabbit = brokerRun('rabbitmq', [
    [50, true, 80],
    [100, true, 200],
    [200, false, 4000],
  ]);
  const sqs = brokerRun('sqs', [
    [50, true, 400],
    [100, false, 3000],
    [200, false, 9000],
  ]);
  assert.deepEqual(commonRates([kafka, rabbit, sqs]), [50, 100, 200]);
  assert.deepEqual(comparisonRate([kafka, rabbit, sqs]), { rate: 50, sustainedByAll: true });
  assert.deepEqual(comparisonRate([kafka, rabbit]), { rate: 100, sustainedByAll: true });
  const none = brokerRun('sqs', [
    [50, false, 3000],
    [100, 'skipped'],
  ]);
  assert.deepEqual(commonRates([kafka, none]), [50]);
  assert.deepEqual(comparisonRate([kafka, none]), { rate: 50, sustainedByAll: false });
  // A broker that failed before measuring anything does not take the common rates away from the others.
  const failed = { broker: 'sqs', system: [], error: 'ElasticMQ does not answer at 127.0.0.1:9324' };
  assert.deepEqual(commonRates([kafka, rabbit, failed]), [50, 100, 200]);
});

test('the comparison table has a column per broker and a row per figure', () => {
  const kafka = brokerRun(
    'kafka',
    [
      [50, true, 90],
      [100, true, 120],
    ],
    { floor: { steps: [{ rate: 50, sustained: true, cpu: { perOrder: { total: 1.23 } } }] } },
  );
  const rabbit = brokerRun('rabbitmq', [
    [50, true, 80],
    [100, false, 2400],
  ]);
  const failed = { broker: 'sqs', system: [], error: 'ElasticMQ does not answer at 127.0.0.1:9324' };
  const text = comparisonTable([kafka, rabbit, failed]);
  const lines = text.split('\n');
  assert.match(lines[0], /^ +Kafka +RabbitMQ +SQS$/);
  const rowOf = (label) => lines.find((l) => l.startsWith(label))?.split(/ {2,}/);
  assert.deepEqual(rowOf('max sustained orders/s'), ['max sustained orders/s', '≥ 100', '50', 'failed']);
  assert.deepEqual(rowOf('p50 / p99 ms at 100/s'), ['p50 / p99 ms at 100/s', '40 / 120', '800 / 2400 NO', 'n/a']);
  assert.deepEqual(rowOf('CPU ms/order at 50/s: services'), ['CPU ms/order at 50/s: services', '2.50', '2.50', 'n/a']);
  assert.deepEqual(rowOf('  broker')?.slice(-3), ['1.50', '1.50', 'n/a']);
  assert.deepEqual(rowOf('broker req/order at 50/s')?.slice(1), ['0.40 / 0.90 / 7.3', '0.40 / 0.90 / 7.3', 'n/a']);
  assert.deepEqual(rowOf('broker RSS MB at 50/s (max)')?.slice(1), ['350 (400)', '350 (400)', 'n/a']);
  assert.deepEqual(rowOf('floor max sustained orders/s')?.slice(1), ['≥ 50', '—', '—']);
  assert.deepEqual(rowOf('floor CPU ms/order at 50/s')?.slice(1), ['1.23', '—', '—']);
  assert.match(text, /floor .* is Kafka-specific: it ran once/);
  assert.match(comparisonTable([rabbit]), /Kafka-specific and did not run/);
  assert.match(text, /SQS: ElasticMQ does not answer/);
  assert.doesNotMatch(text, /NaN|undefined/);
});

test('the comparison plot is standalone SVG with a line per broker', () => {
  const svg = renderCompareSvg({
    title: 'brokers <compared>',
    runs: [
      brokerRun('kafka', [
        [50, true, 90],
        [100, true, 120],
      ]),
      brokerRun('rabbitmq', [
        [50, true, 80],
        [100, false, 2400],
      ]),
      { broker: 'sqs', system: [], error: 'failed' },
    ],
  });
  assert.match(svg, /^<\?xml[^]*<svg [^]*<\/svg>\n$/);
  assert.doesNotMatch(svg, /<script|href=|@import|url\(|NaN|undefined/);
  assert.match(svg, /brokers &lt;compared&gt;/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 6); // p99, p50 and completed/s for each broker that ran
  assert.match(svg, />Kafka p99</);
  assert.match(svg, />RabbitMQ completed\/s</);
});

test('hopTimes: per event type, time from its order placed to made and to stored, orders outside the step left out', () => {
  const placed = new Map([
    ['a', 1_000],
    ['b', 2_000],
  ]);
  const hops = hopTimes(placed, [
    { orderId: 'a', type: 'OrderPlaced', made: 1_000, stored: 1_000 },
    { orderId: 'a', type: 'PaymentAuthorized', made: 1_040, stored: 1_090 },
    { orderId: 'b', type: 'PaymentAuthorized', made: 2_060, stored: 2_100 },
    { orderId: 'a', type: 'OrderCompleted', made: 1_300, stored: 1_290 },
    { orderId: 'elsewhere', type: 'OrderCompleted', made: 5, stored: 5 },
    { orderId: null, type: 'ProductAdded', made: 7, stored: 7 },
  ]);
  assert.deepEqual(
    hops.map((h) => [h.type, h.count, h.made.p50, h.stored.p50, h.stored.max]),
    [
      ['PaymentAuthorized', 2, 40, 90, 100],
      ['OrderCompleted', 1, 300, 290, 290],
    ],
  );
});

test('parseLoopDelay reads how late the event loop ran, in ms past its sampling period, undefined when the service does not export all of it', () => {
  const text = [
    '# HELP nodejs_eventloop_lag_mean_seconds Mean of event loop lag in seconds.',
    'nodejs_eventloop_lag_min_seconds 0.1',
    'nodejs_eventloop_lag_mean_seconds 0.1125',
    'nodejs_eventloop_lag_p99_seconds{service="orders"} 0.145',
    'nodejs_eventloop_lag_max_seconds 0.3',
    'nodejs_eventloop_lag_p90_seconds 0.03',
  ].join('\n');
  const delay = parseLoopDelay(text);
  assert.ok(Math.abs(delay.meanMs - 12.5) < 1e-9 && Math.abs(delay.p99Ms - 45) < 1e-9 && Math.abs(delay.maxMs - 200) < 1e-9, JSON.stringify(delay));
  assert.equal(parseLoopDelay('nodejs_eventloop_lag_mean_seconds 0.01\n'), undefined);
  const perService = loopDelayOf(['orders', 'payment'], [{ loopDelay: { meanMs: 1, p99Ms: 2, maxMs: 3 } }, { loopDelay: undefined }]);
  assert.deepEqual(perService, { orders: { meanMs: 1, p99Ms: 2, maxMs: 3 } });
  assert.equal(loopDelayOf(['orders'], [undefined]), undefined);
});
