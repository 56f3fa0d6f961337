import { order, startSystem, type TestSystem } from './support';

describe('the saga deadlines', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem(3130, { orders: { ORDER_PENDING_TIMEOUT_SECONDS: '2', ORDER_CONFIRMED_TIMEOUT_SECONDS: '2' } });
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

  it('holds every invariant once the system is quiet', async () => {
    await system.assertInvariants();
  });
});
