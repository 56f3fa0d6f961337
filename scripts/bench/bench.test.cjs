'use strict';
// Unit tests of the bench's pure helpers: `node --test scripts/bench/`.
// No I/O, no timing assertions.
const test = require('node:test');
const assert = require('node:assert/strict');
const { percentile, latencySummary, sustainedVerdict, maxSustained, shouldStop, perOrder } = require('./stats.cjs');
const { deriveFloorWork, messagesOfOrder, WorkCredit } = require('./floor-work.cjs');
const { parseKafkaRequests, lagOf } = require('./observe.cjs');
const { parseOptions, OptionError } = require('./options.cjs');
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

test('parseKafkaRequests sums the counter by api over label sets, undefined when absent', () => {
  const text = [
    '# HELP orderflow_kafka_requests_total Kafka requests',
    '# TYPE orderflow_kafka_requests_total counter',
    'orderflow_kafka_requests_total{api="Produce",service="orders"} 12',
    'orderflow_kafka_requests_total{service="orders",api="Produce",client="relay"} 3',
    'orderflow_kafka_requests_total{api="OffsetCommit",service="orders"} 5',
    'orderflow_events_published_total{service="orders"} 99',
  ].join('\n');
  assert.deepEqual(parseKafkaRequests(text), { Produce: 15, OffsetCommit: 5 });
  assert.equal(parseKafkaRequests('process_cpu_seconds_total 1\n'), undefined);
});

test('lagOf counts what each group still has to read', () => {
  assert.equal(lagOf({ a: 10, b: 5 }, { g1: { a: 7 }, g2: { a: 10, b: 1 } }), 3 + 4);
});

test('options: defaults, overrides, and errors that name the option', () => {
  const d = parseOptions([]);
  assert.deepEqual(d.rates, [50, 100, 200, 400, 800, 1600]);
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
    kafka: {},
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
  const text = table([step(50, true), { rate: 100, skipped: 'two consecutive rates not sustained' }]);
  assert.equal(text.split('\n').length, 3);
  assert.match(text, /100 {2}skipped: two consecutive/);
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
