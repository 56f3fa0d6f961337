import { join } from 'node:path';
import { ServiceProcess, brokerControl, brokerUnderTest, managesBroker } from '@orderflow/testkit';
import { order, startSystem, type TestSystem } from './support';

describe('faults: nothing is lost when a service, the broker or a process stops', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem(3120);
  });

  afterAll(async () => {
    if (managesBroker()) await brokerControl('start');
    await system?.teardown();
  });

  it('completes every order placed while shipping was down, once shipping is back', async () => {
    const alice = system.customer('alice');
    await system.cluster.services.shipping.stop('SIGTERM');
    const placed = [];
    for (let i = 0; i < 5; i++) placed.push((await alice.placeOrder(order([{ sku: 'DESK-LAMP', quantity: 1 }]))).body.orderId);
    // Payment and inventory carry on: each order gets as far as it can without shipping.
    for (const id of placed) await alice.waitForStatus(id, ['CONFIRMED']);

    system.cluster.services.shipping.start();
    await system.cluster.services.shipping.waitReady();
    for (const id of placed) expect((await alice.waitForStatus(id, ['COMPLETED'])).status).toBe('COMPLETED');
  });

  it('accepts an order while the broker is down and completes it once the broker is back', async () => {
    if (!managesBroker()) {
      throw new Error(`the ${brokerUnderTest()} broker is an external one (its address variable is set), which this test must not stop: unset it to run the suite`);
    }
    const bob = system.customer('bob');
    await brokerControl('stop');
    let orderId: string;
    try {
      const placed = await bob.placeOrder(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
      expect(placed.status).toBe(202);
      orderId = placed.body.orderId;
      expect((await bob.getOrder(orderId)).body.status).toBe('PENDING');
      const [waiting] = await system.cluster.query<{ n: string }>('orders', 'SELECT count(*) AS n FROM outbox');
      expect(Number(waiting!.n)).toBeGreaterThanOrEqual(1);
    } finally {
      await brokerControl('start');
    }
    expect((await bob.waitForStatus(orderId, ['COMPLETED'], 150_000)).status).toBe('COMPLETED');
  });

  it('stops a service on SIGTERM under load within its grace period, losing and duplicating nothing', async () => {
    const carol = system.customer('carol');
    const placing = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const placed = await carol.placeOrder(order([{ sku: 'MOUSE-PRO', quantity: 1 }], i % 5 === 0 ? 'tok_declined' : 'tok_visa'));
        expect(placed.status).toBe(202);
        ids.push(placed.body.orderId);
      }
      return ids;
    })();
    await new Promise((r) => setTimeout(r, 400));
    const stopped = await system.cluster.services.payment.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(25_000);
    const ids = await placing;

    system.cluster.services.payment.start();
    await system.cluster.services.payment.waitReady();
    for (const id of ids) {
      const view = await carol.waitForStatus(id, ['COMPLETED', 'CANCELLED']);
      expect(view.status).toBe(ids.indexOf(id) % 5 === 0 ? 'CANCELLED' : 'COMPLETED');
    }
  });

  it('shares the work between two inventory instances in one consumer group, applying nothing twice', async () => {
    const first = system.cluster.services.inventory;
    const second = new ServiceProcess('inventory', first.port + 10, first.environment, join(first.logFile, '..', 'inventory-2.log'));
    second.start();
    try {
      await second.waitReady();
      const reservationsBy = async (instance: ServiceProcess): Promise<number> => {
        const text = await (await fetch(`http://127.0.0.1:${instance.port}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith('orderflow_events_consumed_total{') && l.includes('type="OrderPlaced"') && l.includes('outcome="processed"'));
        return line ? Number(line.split(' ').at(-1)) : 0;
      };
      const erin = system.customer('erin');
      const before = await reservationsBy(second);
      const ids: string[] = [];
      // Orders are keyed by random ids over 3 partitions: keep placing until both instances took some.
      for (let round = 0; round < 12 && (ids.length < 10 || (await reservationsBy(second)) === before); round++) {
        const placed = await Promise.all([1, 2, 3, 4, 5].map(() => erin.placeOrder(order([{ sku: 'USB-C-HUB', quantity: 1 }]))));
        ids.push(...placed.map((p) => p.body.orderId));
        for (const id of ids.slice(-5)) await erin.waitForStatus(id, ['COMPLETED']);
      }
      expect(await reservationsBy(second)).toBeGreaterThan(before);
      for (const id of ids) expect((await erin.getOrder(id)).body.status).toBe('COMPLETED');
    } finally {
      const stopped = await second.stop('SIGTERM');
      expect(stopped.code).toBe(0);
    }
  });

  it('holds every invariant once the system is quiet', async () => {
    await system.assertInvariants();
  });
});
