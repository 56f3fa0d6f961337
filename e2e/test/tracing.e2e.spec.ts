import { readFileSync } from 'node:fs';
import { OtlpReceiver, SPAN_KIND, brokerUnderTest, type ReceivedSpan } from '@orderflow/testkit';
import { order, startSystem, type TestSystem } from './support';

/** `messaging.system` of the semantic conventions, for the broker under test. */
const MESSAGING_SYSTEM = { kafka: 'kafka', rabbitmq: 'rabbitmq', sqs: 'aws_sqs' } as const;

/**
 * One order, one trace: the four services export to an OTLP/HTTP receiver this test
 * runs, and every span of an order must hang from the POST /orders request through
 * each broker hop (producer span of the relay → consumer span of each group).
 */
describe('tracing an order across four services', () => {
  const receiver = new OtlpReceiver();
  let system: TestSystem;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    const otel = {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // A debug line per handled event, to find the order's trace in the logs.
      LOG_LEVEL: 'debug',
    };
    system = await startSystem(3310, { orders: otel, payment: otel, inventory: otel, shipping: otel });
  });

  afterAll(async () => {
    await system?.teardown();
    await receiver.stop();
  });

  const orderSpans = (orderId: string) => receiver.spans.filter((s) => s.attributes['orderflow.order_id'] === orderId);
  const has = (spans: readonly ReceivedSpan[], service: string, name: string) => spans.some((s) => s.service === service && s.name === name);

  /**
   * Waits for the named spans of an order, and for the parent of every consumer span
   * among them (each service exports on its own schedule: a consumer's span may arrive
   * before the producer span of the service that sent it), then returns its whole
   * trace (which must be the only one).
   */
  async function traceOf(orderId: string, expected: [service: string, name: string][]): Promise<ReceivedSpan[]> {
    await receiver.waitFor(() => expected.every(([service, name]) => has(orderSpans(orderId), service, name)), 60_000);
    await receiver
      .waitFor(() => {
        const ids = new Set(receiver.spans.map((s) => s.spanId));
        return orderSpans(orderId).every((s) => s.kind !== SPAN_KIND.consumer || ids.has(s.parentSpanId));
      }, 5_000)
      .catch(() => undefined); // a parent that never comes is reported by the assertions, with names
    const traceIds = new Set(orderSpans(orderId).map((s) => s.traceId));
    expect(traceIds.size).toBe(1);
    return receiver.trace([...traceIds][0]!);
  }

  /** Every Kafka hop: each consumer span's parent is the producer span that sent that very event, in the service that emitted it. */
  function expectHopsLinked(trace: readonly ReceivedSpan[]): void {
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const consumers = trace.filter((s) => s.kind === SPAN_KIND.consumer);
    expect(consumers.length).toBeGreaterThan(0);
    for (const consumer of consumers) {
      const parent = byId.get(consumer.parentSpanId);
      expect({ consumer: consumer.name, parent: parent?.name, kind: parent?.kind, id: parent?.attributes['messaging.message.id'] }).toEqual({
        consumer: consumer.name,
        parent: consumer.name.replace(/^process /, 'send '),
        kind: SPAN_KIND.producer,
        id: consumer.attributes['messaging.message.id'],
      });
    }
    // Each producer span hangs from the span that caused its event in the same service: the request, a consumed
    // event, or the decision to cancel the order (internal).
    for (const producer of trace.filter((s) => s.kind === SPAN_KIND.producer)) {
      const parent = byId.get(producer.parentSpanId);
      expect(parent).toBeDefined();
      expect([SPAN_KIND.server, SPAN_KIND.consumer, SPAN_KIND.internal]).toContain(parent!.kind);
      expect(parent!.service).toBe(producer.service);
    }
    const roots = trace.filter((s) => !byId.has(s.parentSpanId));
    expect(roots.map((s) => `${s.service} ${s.name}`)).toEqual(['orders POST /orders']);
  }

  const parentOf = (trace: readonly ReceivedSpan[], span: ReceivedSpan | undefined) => trace.find((s) => s.spanId === span?.parentSpanId);
  const span = (trace: readonly ReceivedSpan[], service: string, name: string) => trace.find((s) => s.service === service && s.name === name);

  it('gives a completed order one trace through all four services, parented across every Kafka hop', async () => {
    const alice = system.customer('alice');
    const placed = await alice.placeOrder(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    expect(placed.status).toBe(202);
    await alice.waitForHistory(placed.body.orderId, ['OrderCompleted', 'StockCommitted']);

    const trace = await traceOf(placed.body.orderId, [
      ['payment', 'process OrderPlaced'],
      ['inventory', 'process OrderPlaced'],
      ['shipping', 'process OrderPlaced'],
      ['orders', 'process PaymentAuthorized'],
      ['orders', 'process StockReserved'],
      ['shipping', 'process OrderConfirmed'],
      ['orders', 'process PickupScheduled'],
      ['inventory', 'process OrderCompleted'],
      ['orders', 'process StockCommitted'],
    ]);
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['orders', 'payment', 'inventory', 'shipping']));
    expectHopsLinked(trace);
    // The saga's decisions continue from the event that made them.
    expect(parentOf(trace, span(trace, 'orders', 'send OrderCompleted'))?.name).toBe('process PickupScheduled');
    expect(['process PaymentAuthorized', 'process StockReserved']).toContain(parentOf(trace, span(trace, 'orders', 'send OrderConfirmed'))?.name);
    expect(parentOf(trace, span(trace, 'payment', 'send PaymentAuthorized'))?.name).toBe('process OrderPlaced');
    // The logs are JSON lines, and the line of a handled event names its order and the span that handled it.
    const lines = readFileSync(system.cluster.services.payment.logFile, 'utf8').split('\n').filter(Boolean);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, string>);
    for (const entry of entries) expect(entry).toMatchObject({ level: expect.any(String), service: 'payment', message: expect.any(String) });
    const handled = span(trace, 'payment', 'process OrderPlaced')!;
    expect(entries.filter((e) => e['order_id'] === placed.body.orderId)).toContainEqual(
      expect.objectContaining({ level: 'debug', event_type: 'OrderPlaced', trace_id: handled.traceId, span_id: handled.spanId, correlation_id: expect.any(String) }),
    );
    // A span of a handled event names its order and consumer group.
    expect(span(trace, 'payment', 'process OrderPlaced')?.attributes).toMatchObject({
      'messaging.system': MESSAGING_SYSTEM[brokerUnderTest()],
      'messaging.consumer.group.name': 'payment',
      'orderflow.order_id': placed.body.orderId,
    });
  });

  it('traces the declined-payment cancellation and its compensations in the order’s trace', async () => {
    const bob = system.customer('bob');
    const placed = await bob.placeOrder(order([{ sku: 'MOUSE-PRO', quantity: 1 }], 'tok_declined'));
    await bob.waitForHistory(placed.body.orderId, ['OrderCancelled', 'StockReleased', 'ShipmentCancelled']);
    const trace = await traceOf(placed.body.orderId, [
      ['orders', 'process PaymentDeclined'],
      ['inventory', 'process OrderCancelled'],
      ['shipping', 'process OrderCancelled'],
      ['orders', 'process StockReleased'],
      ['orders', 'process ShipmentCancelled'],
    ]);
    expectHopsLinked(trace);
    expect(parentOf(trace, span(trace, 'orders', 'send OrderCancelled'))?.name).toBe('process PaymentDeclined');
  });

  it('traces the out-of-stock cancellation and the refund in the order’s trace', async () => {
    const carol = system.customer('carol');
    const placed = await carol.placeOrder(order([{ sku: 'GPU-LIMITED', quantity: 3 }]));
    await carol.waitForHistory(placed.body.orderId, ['OrderCancelled', 'PaymentRefunded', 'ShipmentCancelled']);
    const trace = await traceOf(placed.body.orderId, [
      ['orders', 'process StockUnavailable'],
      ['payment', 'process OrderCancelled'],
      ['orders', 'process PaymentRefunded'],
      ['orders', 'process ShipmentCancelled'],
    ]);
    expectHopsLinked(trace);
    expect(parentOf(trace, span(trace, 'orders', 'send OrderCancelled'))?.name).toBe('process StockUnavailable');
    expect(parentOf(trace, span(trace, 'payment', 'send PaymentRefunded'))?.name).toBe('process OrderCancelled');
  });

  it('keeps a customer’s cancellation and its compensations in the order’s trace, linked to the cancel request', async () => {
    const dave = system.customer('dave');
    // Without shipping, no pickup is scheduled: the order stays CONFIRMED long enough to cancel.
    await system.cluster.services.shipping.stop('SIGTERM');
    let orderId: string;
    try {
      const placed = await dave.placeOrder(order([{ sku: 'USB-C-HUB', quantity: 1 }]));
      orderId = placed.body.orderId;
      await dave.waitForStatus(orderId, ['CONFIRMED']);
      expect((await dave.cancel(orderId)).status).toBe(202);
    } finally {
      system.cluster.services.shipping.start();
      await system.cluster.services.shipping.waitReady();
    }
    await dave.waitForHistory(orderId, ['OrderCancelled', 'PaymentRefunded', 'StockReleased', 'ShipmentCancelled']);
    const trace = await traceOf(orderId, [
      ['orders', 'CancelOrder'],
      ['payment', 'process OrderCancelled'],
      ['inventory', 'process OrderCancelled'],
      ['shipping', 'process OrderCancelled'],
      ['orders', 'process PaymentRefunded'],
    ]);
    expectHopsLinked(trace);
    const cancel = span(trace, 'orders', 'CancelOrder')!;
    expect(parentOf(trace, cancel)?.name).toBe('POST /orders');
    expect(parentOf(trace, span(trace, 'orders', 'send OrderCancelled'))?.spanId).toBe(cancel.spanId);
    // The request is a trace of its own; the decision links to it.
    const request = receiver.spans.find((s) => s.name === 'POST /orders/:orderId/cancel' && s.spanId === cancel.links[0]?.spanId);
    expect(request).toBeDefined();
    expect(request!.traceId).not.toBe(cancel.traceId);
  });

  it('continues a trace the caller started, and leaves the system consistent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`${system.cluster.url('orders')}/products`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(response.status).toBeLessThan(500);
    await receiver.waitFor((spans) => spans.some((s) => s.traceId === traceId));
    expect(receiver.trace(traceId).filter((s) => s.kind === SPAN_KIND.server).map((s) => [s.service, s.name, s.parentSpanId])).toEqual([
      ['orders', 'GET /products', '00f067aa0ba902b7'],
    ]);
    await system.assertInvariants();
  });
});
