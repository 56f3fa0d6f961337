#!/usr/bin/env node
// Runs after scripts/demo.sh has built everything and started PostgreSQL and the broker (BROKER, Kafka by default).
'use strict';
const { join } = require('node:path');
const { Cluster, OtlpReceiver, REPO_ROOT, SPAN_KIND, StorefrontClient, brokerUnderTest, checkInvariants, renderWaterfall, sampleAddress, signDevToken, waitForQuiet } = require('@orderflow/testkit');
const { devSecret } = require('./dev-token.cjs');

const args = process.argv.slice(2);
const unknown = args.filter((a) => !['--once', '--help', '--no-traces'].includes(a));
if (args.includes('--help') || unknown.length) {
  process.stdout.write(
    'usage: npm run demo [-- --once] [-- --no-traces]\n' +
      '  --once       exit after the sample orders instead of keeping the services running\n' +
      '  --no-traces  run the services without tracing (no waterfall per order)\n',
  );
  process.exit(unknown.length ? 2 : 0);
}
const once = args.includes('--once');
const traces = !args.includes('--no-traces');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = (line = '') => process.stdout.write(`${line}\n`);

const SCENARIOS = [
  { title: 'a successful order', customer: 'alice', items: [{ sku: 'KB-MECH-01', quantity: 1 }, { sku: 'MOUSE-PRO', quantity: 2 }], token: 'tok_visa', expect: 'COMPLETED', settle: ['StockCommitted'] },
  { title: 'a declined payment', customer: 'bob', items: [{ sku: 'MON-27-4K', quantity: 1 }], token: 'tok_declined', expect: 'CANCELLED', settle: ['StockReleased', 'ShipmentCancelled'] },
  { title: 'out of stock', customer: 'carol', items: [{ sku: 'GPU-LIMITED', quantity: 5 }], token: 'tok_visa', expect: 'CANCELLED', settle: ['PaymentRefunded', 'ShipmentCancelled'] },
  { title: 'cancelled by the customer', customer: 'dave', items: [{ sku: 'DESK-LAMP', quantity: 1 }], token: 'tok_visa', cancel: true, expect: 'CANCELLED', settle: ['PaymentRefunded', 'StockReleased', 'ShipmentCancelled'] },
];

/**
 * The spans of one order, as the services export them to the demo's own OTLP
 * receiver: waits until no new span of the order has arrived for a moment.
 */
async function orderSpans(receiver, orderId) {
  const traceIds = () => new Set(receiver.spans.filter((s) => s.attributes['orderflow.order_id'] === orderId).map((s) => s.traceId));
  let count = -1;
  for (let i = 0; i < 40; i++) {
    const now = receiver.spans.filter((s) => traceIds().has(s.traceId)).length;
    if (now === count && now > 0) break;
    count = now;
    await sleep(400);
  }
  return [...traceIds()].map((id) => receiver.trace(id));
}

async function main() {
  const secret = devSecret();
  const basePort = Number(process.env.ORDERFLOW_BASE_PORT || 3000);
  // Traces: every service exports OTLP/HTTP JSON to a receiver run here, drawn as a waterfall per order.
  const receiver = traces ? new OtlpReceiver() : undefined;
  const endpoint = receiver ? await receiver.start(Number(process.env.ORDERFLOW_OTLP_PORT || 0)) : undefined;
  const serviceEnv = {
    LOG_FORMAT: 'pretty',
    ...(endpoint
      ? { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' }
      : {}),
  };
  const cluster = new Cluster({
    topicPrefix: process.env.TOPIC_PREFIX || '',
    databaseSuffix: process.env.ORDERFLOW_DATABASE_SUFFIX || '',
    basePort,
    jwtSecret: secret,
    logDir: join(REPO_ROOT, '.cache/demo-logs'),
    extraEnv: {
      // The storefront's demo sign-in, and the operator view reading the other three.
      orders: {
        ...serviceEnv,
        AUTH_DEV_TOKENS: 'true',
        OPS_SERVICE_URLS: ['payment', 'inventory', 'shipping'].map((name, i) => `${name}=http://127.0.0.1:${basePort + 1 + i}`).join(','),
      },
      payment: serviceEnv,
      inventory: serviceEnv,
      shipping: serviceEnv,
    },
  });
  const storefront = `http://127.0.0.1:${basePort}/`;
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    out('\nstopping the services…');
    await cluster.stop();
    await receiver?.stop();
    const broker = brokerUnderTest();
    out(`stopped. The broker keeps running${broker === 'kafka' ? ': `npm run kafka -- stop` stops it' : broker === 'sqs' ? ': `bash infra/elasticmq/elasticmq.sh stop` stops it' : ''}.`);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  out(`starting orders :${cluster.services.orders.port}, payment :${cluster.services.payment.port}, inventory :${cluster.services.inventory.port}, shipping :${cluster.services.shipping.port} (logs in .cache/demo-logs)`);
  const t = Date.now();
  await cluster.start();
  out(`all four services ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  out(`storefront: ${storefront}  (sign in as any demo customer; the orders below play out live there)`);

  out('\nseeding the catalog (inventory)');
  process.stdout.write(await cluster.seed());
  const client = (customer) => new StorefrontClient(cluster.url('orders'), signDevToken(customer, secret));
  for (let i = 0; ; i++) {
    const products = (await client('alice').products()).body;
    if (products.length >= 6 || i > 150) break;
    await sleep(200);
  }

  let failures = 0;
  for (const scenario of SCENARIOS) {
    const storefront = client(scenario.customer);
    out(`\n── ${scenario.title}: ${scenario.customer} orders ${scenario.items.map((i) => `${i.quantity} × ${i.sku}`).join(', ')}, paying with ${scenario.token}`);
    const placed = await storefront.placeOrder({ items: scenario.items, payment: { token: scenario.token }, shippingAddress: sampleAddress });
    if (placed.status !== 202) {
      out(`   POST /orders → ${placed.status} ${JSON.stringify(placed.body)}`);
      failures++;
      continue;
    }
    const { orderId } = placed.body;
    out(`   POST /orders → 202 ${orderId}`);
    if (scenario.cancel) {
      const cancelled = await storefront.cancel(orderId);
      out(`   POST /orders/${orderId}/cancel → ${cancelled.status}`);
    }
    let view;
    try {
      view = await storefront.waitForHistory(orderId, scenario.settle, 60_000);
    } catch (error) {
      out(`   ${error.message}`);
      failures++;
      continue;
    }
    const start = Date.parse(view.history[0].at);
    // Chronological by the emitter’s clock; the order stream itself records them in arrival order.
    for (const h of [...view.history].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
      out(`   +${String(Date.parse(h.at) - start).padStart(4)} ms  ${h.source.padEnd(9)} ${h.type}`);
    }
    if (receiver) {
      for (const trace of await orderSpans(receiver, orderId)) {
        // Database queries are in the trace too; the waterfall shows the request and the Kafka hops.
        const hops = trace.filter((s) => s.kind !== SPAN_KIND.client);
        out('');
        for (const line of renderWaterfall(hops, 30).split('\n')) out(`   ${line}`);
        if (hops.length < trace.length) out(`   (+ ${trace.length - hops.length} database spans)`);
      }
    }
    const ok = view.status === scenario.expect;
    if (!ok) failures++;
    out(`   final status: ${view.status}${view.reason ? ` (${view.reason})` : ''}${ok ? '' : `  ✗ expected ${scenario.expect}`}`);
  }

  await waitForQuiet(cluster, 60_000);
  const violations = await checkInvariants(cluster);
  out(`\ninvariants: ${violations.length === 0 ? 'all hold (terminal states, money, stock, shipping, no duplicates)' : ''}`);
  for (const v of violations) out(`  ✗ ${v}`);
  if (violations.length) failures++;

  if (once) return stop(failures ? 1 : 0);
  out(`
Orderflow is running.

  Storefront:     ${storefront}   sign in as any demo customer, order, watch the journey live
  Operator view:  ${storefront}ops   sign in as a demo operator: health, lag, outbox, dead letters

Or place an order from the command line:

  TOKEN=$(npm run -s token -- my-customer)            # --operator adds the operator role
  curl -s localhost:${cluster.services.orders.port}/products -H "Authorization: Bearer $TOKEN"
  curl -s -X POST localhost:${cluster.services.orders.port}/orders \\
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H 'Idempotency-Key: my-first-order' \\
    -d '{"items":[{"sku":"KB-MECH-01","quantity":1}],"payment":{"token":"tok_visa"},"shippingAddress":{"name":"Ada","line1":"1 Main St","city":"London","postalCode":"N1 9GU","country":"GB"}}'
  curl -s localhost:${cluster.services.orders.port}/orders/<orderId> -H "Authorization: Bearer $TOKEN"

OpenAPI: http://localhost:${cluster.services.orders.port}/docs    Ctrl-C stops the services.${
    endpoint ? `\nTraces: the services export to ${endpoint}/v1/traces (OTLP/HTTP JSON), received by this demo.` : ''
  }`);
  // Stay up; if a service dies, say so and stop the rest.
  for (;;) {
    await sleep(1_000);
    const dead = Object.values(cluster.services).find((s) => !s.running);
    if (dead && !stopping) {
      out(`${dead.name} exited; see ${dead.logFile}`);
      return stop(1);
    }
  }
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${error.stack || error.message}\n`);
  process.exit(1);
});
