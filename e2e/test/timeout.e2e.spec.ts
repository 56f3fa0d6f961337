import { order, startSystem, type TestSystem } from './support';

describe('the saga deadline', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem(3130, { orders: { ORDER_PENDING_TIMEOUT_SECONDS: '2' } });
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

  it('holds every invariant once the system is quiet', async () => {
    await system.assertInvariants();
  });
});
