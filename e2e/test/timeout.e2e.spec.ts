import { order, startSystem, type TestSystem } from './support';

describe('the saga deadlines, and load shedding while they are the only way out', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem(3130, {
      orders: { ORDER_PENDING_TIMEOUT_SECONDS: '2', ORDER_CONFIRMED_TIMEOUT_SECONDS: '2', ORDER_ADMISSION_MAX_PENDING: '2', ORDER_ADMISSION_RETRY_AFTER_SECONDS: '3' },
    });
  });

  afterAll(async () => {
    await system?.teardown();
  });

  it('cancels an order payment never answered (TIMEOUT), and compensates once payment is back', async () => {
    const alice = system.customer('alice');
    await system.cluster.services.payment.stop('SIGTERM');
    const placed = await alice.placeOrder(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    const view = await alice.waitForHistory(placed.body.orderId, ['OrderCancelled', 'StockReleased', 'ShipmentCancelled'], 30_000);
    expect(view).toMatchObject({ status: 'CANCELLED', reason: 'TIMEOUT' });

    // Payment catches up: it sees OrderPlaced, then OrderCancelled, so it authorizes and refunds.
    system.cluster.services.payment.start();
    await system.cluster.services.payment.waitReady();
    const settled = await alice.waitForHistory(placed.body.orderId, ['PaymentAuthorized', 'PaymentRefunded']);
    expect(settled.status).toBe('CANCELLED');
  });

  it('cancels a CONFIRMED order whose pickup never came (TIMEOUT), refunding and releasing, and voids the label once shipping is back', async () => {
    const bob = system.customer('bob');
    await system.cluster.services.shipping.stop('SIGTERM');
    const placed = await bob.placeOrder(order([{ sku: 'MOUSE-PRO', quantity: 1 }]));
    const view = await bob.waitForHistory(placed.body.orderId, ['OrderConfirmed', 'OrderCancelled', 'PaymentRefunded', 'StockReleased'], 30_000);
    expect(view).toMatchObject({ status: 'CANCELLED', reason: 'TIMEOUT' });

    // Shipping catches up: it prepares the label, schedules the pickup, then cancels the shipment.
    system.cluster.services.shipping.start();
    await system.cluster.services.shipping.waitReady();
    const settled = await bob.waitForHistory(placed.body.orderId, ['ShipmentPrepared', 'ShipmentCancelled']);
    expect(settled.status).toBe('CANCELLED');
  });

  it('refuses orders with 503 and Retry-After while ORDER_ADMISSION_MAX_PENDING orders are PENDING, and takes them again once the backlog is gone', async () => {
    const carol = system.customer('carol');
    await system.cluster.services.payment.stop('SIGTERM');
    const first = await carol.placeOrder(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    const second = await carol.placeOrder(order([{ sku: 'MOUSE-PRO', quantity: 1 }]));
    expect([first.status, second.status]).toEqual([202, 202]);

    const refused = await carol.placeOrder(order([{ sku: 'KB-MECH-01', quantity: 1 }]), 'shed-once');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(refused.body).toMatchObject({ error: 'OVERLOADED', message: expect.stringContaining('(the bound is 2)') });

    // The deadline cancels the two: the backlog is gone. Payment comes back.
    for (const placed of [first, second]) expect((await carol.waitForStatus(placed.body.orderId, ['CANCELLED'], 30_000)).reason).toBe('TIMEOUT');
    system.cluster.services.payment.start();
    await system.cluster.services.payment.waitReady();

    // The refused request changed nothing: sent again with its Idempotency-Key it makes its order now.
    let again = refused;
    for (const deadline = Date.now() + 5_000; again.status === 503 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 100));
      again = await carol.placeOrder(order([{ sku: 'KB-MECH-01', quantity: 1 }]), 'shed-once');
    }
    expect(again.status).toBe(202);
    expect((await carol.waitForStatus(again.body.orderId, ['COMPLETED'])).status).toBe('COMPLETED');
    for (const placed of [first, second]) await carol.waitForHistory(placed.body.orderId, ['PaymentAuthorized', 'PaymentRefunded']);
  });

  it('holds every invariant once the system is quiet', async () => {
    await system.assertInvariants();
  });
});
