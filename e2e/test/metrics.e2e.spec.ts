import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OtlpReceiver, REPO_ROOT, privateBroker } from '@orderflow/testkit';
import { brokerPortOffset, order, startSystem, type TestSystem } from './support';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Lag and backlog as an operator sees them on /metrics. The test runs on a broker
 * of its own, which it stops: the shared one is never touched.
 */
describe('consumer lag and outbox backlog metrics', () => {
  const broker = privateBroker(3391 + brokerPortOffset());
  const shared = Object.fromEntries(Object.keys(broker.env).map((name) => [name, process.env[name]]));
  let system: TestSystem;

  // Traced too: an order placed while the broker is down must still be one trace once published.
  const receiver = new OtlpReceiver();

  beforeAll(async () => {
    await broker.start();
    Object.assign(process.env, broker.env);
    const otel = {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: await receiver.start(),
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    system = await startSystem(3320, { orders: otel, payment: otel, inventory: otel, shipping: otel });
  }, 240_000);

  afterAll(async () => {
    await system?.teardown();
    await receiver.stop();
    await broker.remove();
    for (const [name, value] of Object.entries(shared)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const scrape = async (service: 'orders' | 'payment' | 'inventory' | 'shipping'): Promise<Sample[]> => {
    const response = await fetch(`${system.cluster.url(service)}/metrics`);
    expect(response.status).toBe(200);
    return parseMetrics(await response.text());
  };
  /**
   * Lag of one group on orders.events, summed over its partitions, as the orders
   * service (the topic's producer) reports it: group and topic are named without the
   * environment's prefix, as on every broker.
   */
  const lagOnOrders = async (group: string): Promise<number | undefined> => {
    const series = (await scrape('orders')).filter(
      (s) => s.name === 'orderflow_consumer_lag_messages' && s.labels['group'] === group && s.labels['topic'] === 'orders.events',
    );
    return series.length === 0 ? undefined : series.reduce((sum, s) => sum + s.value, 0);
  };
  const gauge = async (service: 'orders', name: string): Promise<number> => {
    const sample = (await scrape(service)).find((s) => s.name === name);
    expect(sample).toBeDefined();
    return sample!.value;
  };
  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
      await sleep(250);
    }
  }

  it('exports every metric the Grafana dashboard queries', async () => {
    const alice = system.customer('alice');
    const placed = await alice.placeOrder(order([{ sku: 'DESK-LAMP', quantity: 1 }]));
    await alice.waitForStatus(placed.body.orderId, ['COMPLETED']);
    // The families each service declares (`# TYPE name kind`), with a histogram's series.
    const exported = new Set<string>();
    for (const service of ['orders', 'payment', 'inventory', 'shipping'] as const) {
      const text = await (await fetch(`${system.cluster.url(service)}/metrics`)).text();
      for (const [, name, kind] of text.matchAll(/^# TYPE (\w+) (\w+)$/gm)) {
        exported.add(name!);
        if (kind === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) exported.add(`${name}${suffix}`);
      }
    }
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'infra/observability/grafana/dashboards/orderflow.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const queried = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\b(orderflow_\w+)/g)].map((m) => m[1]!)));
    expect(queried.length).toBeGreaterThan(0);
    expect([...new Set(queried)].filter((name) => !exported.has(name))).toEqual([]);
    // HTTP durations are labelled by route template, never by a path with an order id in it.
    const http = (await scrape('orders')).filter((s) => s.name === 'orderflow_http_request_duration_seconds_count');
    expect(http).toContainEqual(expect.objectContaining({ labels: expect.objectContaining({ method: 'POST', route: '/orders', status: '202' }) }));
    expect(http.map((s) => s.labels['route'])).toContain('/orders/:orderId');
    expect(http.filter((s) => /[0-9a-f]{8}-[0-9a-f]{4}/.test(s.labels['route'] ?? ''))).toEqual([]);
    const lifetime = (await scrape('orders')).find((s) => s.name === 'orderflow_order_lifetime_seconds_count' && s.labels['status'] === 'COMPLETED');
    expect(lifetime?.value).toBeGreaterThanOrEqual(1);
    // Payment handled the OrderPlaced: its units of work spent time loading, in the handler, and writing.
    const phases = (await scrape('payment')).filter((s) => s.name === 'orderflow_consumer_batch_phase_seconds_total');
    expect(Object.fromEntries(phases.map((s) => [s.labels['phase'], s.value > 0]))).toEqual({ load: true, handle: true, write: true });
  });

  it('shows a stopped consumer’s lag rising while orders are placed, and back to 0 once it catches up', async () => {
    const alice = system.customer('alice');
    // A first order, so the shipping group has committed offsets on orders.events.
    const first = await alice.placeOrder(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    await alice.waitForStatus(first.body.orderId, ['COMPLETED']);
    expect(await eventually(() => lagOnOrders('shipping'), (lag) => lag === 0, 'shipping lag after the first order')).toBe(0);

    await system.cluster.services.shipping.stop('SIGTERM');
    const placed = [];
    for (let i = 0; i < 3; i++) placed.push((await alice.placeOrder(order([{ sku: 'USB-C-HUB', quantity: 1 }]))).body.orderId);
    // Each order puts OrderPlaced on orders.events, and OrderConfirmed once paid and reserved.
    const risen = await eventually(() => lagOnOrders('shipping'), (lag) => (lag ?? 0) >= 6, 'shipping lag while shipping is stopped');
    expect(risen).toBeGreaterThanOrEqual(6);
    // The groups that kept running are not behind.
    expect(await eventually(() => lagOnOrders('payment'), (lag) => lag === 0, 'payment lag')).toBe(0);

    system.cluster.services.shipping.start();
    await system.cluster.services.shipping.waitReady();
    for (const id of placed) expect((await alice.waitForStatus(id, ['COMPLETED'])).status).toBe('COMPLETED');
    expect(await eventually(() => lagOnOrders('shipping'), (lag) => lag === 0, 'shipping lag after its restart')).toBe(0);
  }, 300_000);

  it('shows the outbox backlog and its age rising while the broker is down, and draining after, even across a restart', async () => {
    const bob = system.customer('bob');
    expect(await eventually(() => gauge('orders', 'orderflow_outbox_pending'), (n) => n === 0, 'orders outbox before')).toBe(0);
    expect(await gauge('orders', 'orderflow_outbox_oldest_age_seconds')).toBe(0);

    await broker.stop();
    const placed: string[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const response = await bob.placeOrder(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
        expect(response.status).toBe(202);
        placed.push(response.body.orderId);
      }
      expect(await eventually(() => gauge('orders', 'orderflow_outbox_pending'), (n) => n >= 2, 'orders outbox while the broker is down')).toBe(2);
      const age = await gauge('orders', 'orderflow_outbox_oldest_age_seconds');
      await sleep(1_500);
      expect(await gauge('orders', 'orderflow_outbox_oldest_age_seconds')).toBeGreaterThan(age);
    } finally {
      // The process that stored the events stops before publishing them; the next one publishes them.
      await system.cluster.services.orders.stop('SIGTERM').catch(() => undefined);
      await broker.start();
    }
    system.cluster.services.orders.start();
    await system.cluster.services.orders.waitReady();

    expect(await eventually(() => gauge('orders', 'orderflow_outbox_pending'), (n) => n === 0, 'orders outbox after', 150_000)).toBe(0);
    expect(await gauge('orders', 'orderflow_outbox_oldest_age_seconds')).toBe(0);
    for (const id of placed) expect((await bob.waitForStatus(id, ['COMPLETED'], 150_000)).status).toBe('COMPLETED');

    // The relay of the new process sent OrderPlaced under the request span the old process stored with it.
    for (const id of placed) {
      await receiver.waitFor((spans) => spans.some((s) => s.attributes['orderflow.order_id'] === id && s.name === 'process PickupScheduled'));
      const traceIds = new Set(receiver.spans.filter((s) => s.attributes['orderflow.order_id'] === id).map((s) => s.traceId));
      expect(traceIds.size).toBe(1);
      const trace = receiver.trace([...traceIds][0]!);
      const request = trace.find((s) => s.name === 'POST /orders')!;
      // Every attempt is a sibling under the request: the ones that failed while the broker was down are marked so.
      const sends = trace.filter((s) => s.name === 'send OrderPlaced');
      for (const attempt of sends) expect(attempt.parentSpanId).toBe(request.spanId);
      const delivered = sends.filter((s) => s.status !== 2);
      expect(delivered).toHaveLength(1);
      for (const service of ['payment', 'inventory', 'shipping']) {
        expect(trace.find((s) => s.service === service && s.name === 'process OrderPlaced')?.parentSpanId).toBe(delivered[0]!.spanId);
      }
    }
    await system.assertInvariants();
  }, 400_000);
});
