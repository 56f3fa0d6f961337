import { encodeEvent, type AnyEvent } from '@orderflow/contracts';
import { publishPoisonOrderPlaced, testTransport, waitForQuiet } from '@orderflow/testkit';
import { order, startSystem, type TestSystem } from './support';

interface StockLevels {
  stocked: number;
  available: number;
  reserved: number;
  committed: number;
}

describe('the order flow across four services', () => {
  let system: TestSystem;
  const stock = async (sku: string): Promise<StockLevels> => {
    const response = await fetch(`${system.cluster.url('inventory')}/stock/${sku}`);
    return (await response.json()) as StockLevels;
  };
  const admin = async (service: 'payment' | 'shipping', path: string): Promise<{ status: string }> => {
    const response = await fetch(`${system.cluster.url(service)}${path}`);
    expect(response.status).toBe(200);
    return (await response.json()) as { status: string };
  };

  beforeAll(async () => {
    system = await startSystem(3110);
  });

  afterAll(async () => {
    await system?.teardown();
  });

  it('completes a paid, in-stock order: payment authorized, stock committed, pickup scheduled', async () => {
    const alice = system.customer('alice');
    const before = await stock('KB-MECH-01');
    const placed = await alice.placeOrder(order([{ sku: 'KB-MECH-01', quantity: 2 }]));
    expect(placed.status).toBe(202);
    expect(placed.body.status).toBe('PENDING');
    expect(placed.headers.get('location')).toBe(`/orders/${placed.body.orderId}`);

    const done = await alice.waitForHistory(placed.body.orderId, ['OrderCompleted', 'StockCommitted']);
    expect(done.status).toBe('COMPLETED');
    expect(done.total).toBe(2 * 8900);
    expect(done.history.map((h) => h.type)).toEqual(
      expect.arrayContaining(['OrderPlaced', 'PaymentAuthorized', 'StockReserved', 'OrderConfirmed', 'ShipmentPrepared', 'PickupScheduled', 'OrderCompleted']),
    );
    expect(done.history[0]).toMatchObject({ type: 'OrderPlaced', source: 'orders' });
    expect((await admin('payment', `/payments/${placed.body.orderId}`)).status).toBe('AUTHORIZED');
    expect((await admin('shipping', `/shipments/${placed.body.orderId}`)).status).toBe('PICKUP_SCHEDULED');
    const after = await stock('KB-MECH-01');
    expect(after).toMatchObject({ committed: before.committed + 2, available: before.available - 2, reserved: 0 });
  });

  it('cancels on a declined payment, releasing the stock and voiding the label', async () => {
    const bob = system.customer('bob');
    const before = await stock('MOUSE-PRO');
    const placed = await bob.placeOrder(order([{ sku: 'MOUSE-PRO', quantity: 1 }], 'tok_declined'));
    const view = await bob.waitForHistory(placed.body.orderId, ['OrderCancelled', 'StockReleased', 'ShipmentCancelled']);
    expect(view).toMatchObject({ status: 'CANCELLED', reason: 'PAYMENT_DECLINED' });
    expect((await admin('payment', `/payments/${placed.body.orderId}`)).status).toBe('DECLINED');
    expect((await admin('shipping', `/shipments/${placed.body.orderId}`)).status).toBe('CANCELLED');
    expect(await stock('MOUSE-PRO')).toMatchObject({ available: before.available, reserved: 0, committed: before.committed });
  });

  it('cancels an order for more than the stock, refunding the payment', async () => {
    const carol = system.customer('carol');
    const placed = await carol.placeOrder(order([{ sku: 'GPU-LIMITED', quantity: 3 }]));
    const view = await carol.waitForHistory(placed.body.orderId, ['OrderCancelled', 'PaymentRefunded', 'ShipmentCancelled']);
    expect(view).toMatchObject({ status: 'CANCELLED', reason: 'OUT_OF_STOCK' });
    expect((await admin('payment', `/payments/${placed.body.orderId}`)).status).toBe('REFUNDED');
    expect(await stock('GPU-LIMITED')).toMatchObject({ available: 2, reserved: 0 });
  });

  it('lets a customer cancel a CONFIRMED order and compensates fully; a COMPLETED order answers 409', async () => {
    const dave = system.customer('dave');
    // Without shipping, no pickup is scheduled: the order stays CONFIRMED long enough to cancel.
    await system.cluster.services.shipping.stop('SIGTERM');
    const placed = await dave.placeOrder(order([{ sku: 'USB-C-HUB', quantity: 1 }]));
    await dave.waitForStatus(placed.body.orderId, ['CONFIRMED']);
    expect((await dave.cancel(placed.body.orderId)).status).toBe(202);
    system.cluster.services.shipping.start();
    await system.cluster.services.shipping.waitReady();

    const view = await dave.waitForHistory(placed.body.orderId, ['OrderCancelled', 'PaymentRefunded', 'StockReleased', 'ShipmentCancelled']);
    expect(view).toMatchObject({ status: 'CANCELLED', reason: 'CUSTOMER_CANCELLED' });
    expect(view.history.map((h) => h.type)).not.toContain('OrderCompleted');
    expect((await admin('shipping', `/shipments/${placed.body.orderId}`)).status).toBe('CANCELLED');

    const completed = await dave.placeOrder(order([{ sku: 'DESK-LAMP', quantity: 1 }]));
    await dave.waitForStatus(completed.body.orderId, ['COMPLETED']);
    const refused = await dave.cancel(completed.body.orderId);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'ILLEGAL_STATE' });
  });

  it('returns the same order for a repeated Idempotency-Key and 422 for the same key with another body', async () => {
    const erin = system.customer('erin');
    const body = order([{ sku: 'DESK-LAMP', quantity: 1 }]);
    const first = await erin.placeOrder(body, 'erin-checkout-1');
    const again = await erin.placeOrder(body, 'erin-checkout-1');
    expect(again.status).toBe(202);
    expect(again.body.orderId).toBe(first.body.orderId);
    const other = await erin.placeOrder(order([{ sku: 'DESK-LAMP', quantity: 2 }]), 'erin-checkout-1');
    expect(other.status).toBe(422);
    await erin.waitForStatus(first.body.orderId, ['COMPLETED']);
  });

  it('changes nothing when consumed events are published again', async () => {
    const frank = system.customer('frank');
    const placed = await frank.placeOrder(order([{ sku: 'MON-27-4K', quantity: 1 }]));
    const orderId = placed.body.orderId;
    await frank.waitForHistory(orderId, ['OrderCompleted', 'StockCommitted']);
    await waitForQuiet(system.cluster);
    const levels = await stock('MON-27-4K');

    // Re-publish the very same OrderPlaced (same event id) and PaymentAuthorized, as a redelivery would.
    const load = async (service: 'orders' | 'payment', streamId: string, type: string): Promise<AnyEvent> => {
      const [row] = await system.cluster.query<{ event_id: string; type: string; data: unknown; metadata: object }>(
        service,
        'SELECT event_id, type, data, metadata FROM events WHERE stream_id = $1 AND type = $2',
        [streamId, type],
      );
      return { ...row!.metadata, id: row!.event_id, type: row!.type, data: row!.data } as AnyEvent;
    };
    const placedEvent = await load('orders', `order-${orderId}`, 'OrderPlaced');
    const authorized = await load('payment', `payment-${orderId}`, 'PaymentAuthorized');
    const transport = testTransport(system.cluster.options.topicPrefix, 'e2e-republisher');
    const publisher = transport.publisher();
    try {
      await publisher.send([
        { topic: 'orders.events', ...encodeEvent(placedEvent) },
        { topic: 'payments.events', ...encodeEvent(authorized) },
      ]);
    } finally {
      await publisher.disconnect();
      await transport.close();
    }
    await waitForQuiet(system.cluster);

    const count = async (service: 'payment' | 'inventory' | 'orders', streamId: string) =>
      Number((await system.cluster.query<{ n: string }>(service, 'SELECT count(*) AS n FROM events WHERE stream_id = $1', [streamId]))[0]!.n);
    expect(await count('payment', `payment-${orderId}`)).toBe(1);
    expect(await count('inventory', `reservation-${orderId}`)).toBe(2); // reserved, committed
    expect((await frank.getOrder(orderId)).body.history.filter((h) => h.type === 'PaymentAuthorized')).toHaveLength(1);
    expect(await stock('MON-27-4K')).toEqual(levels);
    // The saga's record of an outcome in the order's stream is its inbox: no inbox row for it, one for payment's OrderPlaced.
    const inboxRows = async (service: 'orders' | 'payment', eventId: string) =>
      (await system.cluster.query(service, 'SELECT 1 FROM inbox WHERE event_id = $1', [eventId])).length;
    expect([await inboxRows('orders', authorized.id), await inboxRows('payment', placedEvent.id)]).toEqual([0, 1]);
  });

  it('hides one customer’s order from another and answers bad requests with clear 4xx errors', async () => {
    const grace = system.customer('grace');
    const placed = await grace.placeOrder(order([{ sku: 'DESK-LAMP', quantity: 1 }]));
    const mallory = system.customer('mallory');
    expect((await mallory.getOrder(placed.body.orderId)).status).toBe(404);
    expect((await mallory.cancel(placed.body.orderId)).status).toBe(404);

    const missingAuth = await system.anonymous.placeOrder(order([{ sku: 'DESK-LAMP', quantity: 1 }]));
    expect(missingAuth.status).toBe(401);
    expect((await system.anonymous.products()).status).toBe(401);
    // Development sign-in exists only where AUTH_DEV_TOKENS enables it (off here, as by default).
    expect((await system.anonymous.request('POST', '/auth/dev-token', { customerId: 'grace' })).status).toBe(404);

    const badJson = await grace.placeOrder('{"items": [');
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ error: 'BAD_REQUEST', message: expect.stringMatching(/JSON/) });

    const unknownField = await grace.placeOrder({ ...order([{ sku: 'DESK-LAMP', quantity: 1 }]), coupon: 'FREE' } as never);
    expect(unknownField.status).toBe(400);
    expect(unknownField.body).toMatchObject({ error: 'VALIDATION', details: [{ field: 'coupon' }] });

    const zero = await grace.placeOrder(order([{ sku: 'DESK-LAMP', quantity: 0 }]));
    expect(zero.status).toBe(400);
    expect(zero.body).toMatchObject({ details: [{ field: 'items[0].quantity' }] });

    const negative = await grace.placeOrder(order([{ sku: 'DESK-LAMP', quantity: -3 }]));
    expect(negative.status).toBe(400);

    const repeated = await grace.placeOrder(order([{ sku: 'DESK-LAMP', quantity: 1 }, { sku: 'DESK-LAMP', quantity: 2 }]));
    expect(repeated.status).toBe(400);
    expect(repeated.body).toMatchObject({ details: [{ field: 'items[1].sku' }] });

    const unknownSku = await grace.placeOrder(order([{ sku: 'NO-SUCH-THING', quantity: 1 }]));
    expect(unknownSku.status).toBe(400);
    expect(unknownSku.body).toMatchObject({ details: [{ field: 'items[0].sku' }] });
    await grace.waitForStatus(placed.body.orderId, ['COMPLETED']);
  });

  it('parks an invalid event in the dead-letter topic, names the error, and keeps consuming', async () => {
    const prefix = system.cluster.options.topicPrefix;
    const transport = testTransport(prefix, 'e2e-poison');
    const poisonId = 'poison-order-1';
    await publishPoisonOrderPlaced(system.cluster, poisonId);
    const henry = system.customer('henry');
    const placed = await henry.placeOrder(order([{ sku: 'DESK-LAMP', quantity: 1 }]));
    await henry.waitForStatus(placed.body.orderId, ['COMPLETED']);

    // payment, inventory and shipping each consume orders.events in their own group: three dead letters.
    let letters = await transport.listDeadLetters({ topics: ['orders.events'] });
    for (let i = 0; letters.length < 3 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 200));
      letters = await transport.listDeadLetters({ topics: ['orders.events'] });
    }
    await transport.close();
    expect(letters.map((l) => l.headers['dlq-consumer-group']).sort()).toEqual(['inventory', 'payment', 'shipping']);
    for (const letter of letters) {
      expect(letter.key).toBe(poisonId);
      expect(letter.headers['dlq-error']).toMatch(/OrderPlaced data is invalid/);
      expect(letter.headers['dlq-original-topic']).toBe(`${prefix}orders.events`);
    }
    // Nothing of the poison reached any service's state.
    expect(await system.cluster.query('payment', "SELECT 1 FROM payments WHERE order_id = $1", [poisonId])).toEqual([]);
  });

  it('rebuilds every read model from the event log to the same rows', async () => {
    await waitForQuiet(system.cluster);
    const tables = [
      ['orders', 'order_summaries', 'order_id'],
      ['payment', 'payments', 'order_id'],
      ['inventory', 'stock', 'sku'],
      ['shipping', 'shipments', 'order_id'],
    ] as const;
    const snapshot = async (service: (typeof tables)[number][0], table: string, key: string) =>
      (await system.cluster.query<Record<string, unknown>>(service, `SELECT * FROM ${table} ORDER BY ${key}`)).map(
        ({ updated_at: _ignored, ...row }) => row,
      );
    for (const [service, table, key] of tables) {
      const before = await snapshot(service, table, key);
      expect(before.length).toBeGreaterThan(0);
      expect(await system.cluster.replay(service)).toMatch(new RegExp(`rebuilt ${table} from \\d+ stream`));
      expect(await snapshot(service, table, key)).toEqual(before);
    }
  });

  it('holds every invariant once the system is quiet, with only the deliberate poison event parked', async () => {
    // The poison OrderPlaced above is parked once per consuming group: payment, inventory, shipping.
    await system.assertInvariants({ expectedDeadLetters: { 'orders.events': 3 } });
  });
});
