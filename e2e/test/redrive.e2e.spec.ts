import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createEvent, encodeEvent, type AnyEvent } from '@orderflow/contracts';
import type { Publisher, Transport } from '@orderflow/messaging';
import { REPO_ROOT, brokerEnv, sampleAddress, testTransport, waitForQuiet } from '@orderflow/testkit';
import { startSystem, type TestSystem } from './support';

const run = promisify(execFile);
const GROUPS = ['payment', 'inventory', 'shipping'] as const;
type Group = (typeof GROUPS)[number];

/**
 * Compensation before action: an OrderPlaced parked in the dead-letter topic by every
 * consuming group (as an outage past the retry budget would), the order cancelled
 * meanwhile, then the letters redriven with `npm run dlq` — the late OrderPlaced must
 * charge, reserve and prepare nothing, and each letter reaches only its own group.
 */
describe('a redriven OrderPlaced after the order was cancelled', () => {
  let system: TestSystem;
  let transport: Transport;
  let publisher: Publisher;
  const orderId = randomUUID();
  const sku = 'DESK-LAMP';
  let placed: AnyEvent;

  const dlq = async (...args: string[]): Promise<string> => {
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'scripts/dlq.cjs'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...brokerEnv(), TOPIC_PREFIX: system.cluster.options.topicPrefix },
    });
    return stdout;
  };
  const handled = async (group: Group): Promise<boolean> =>
    (await system.cluster.query(group, 'SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2', [group, placed.id])).length === 1;
  const streamTypes = async (group: Group, streamId: string): Promise<string[]> =>
    (
      await system.cluster.query<{ type: string }>(group, 'SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_version', [
        streamId,
      ])
    ).map((r) => r.type);
  const stockOf = async () =>
    (await system.cluster.query<{ available: number; reserved: number }>('inventory', 'SELECT available, reserved FROM stock WHERE sku = $1', [sku]))[0];

  beforeAll(async () => {
    system = await startSystem(3140);
    transport = testTransport(system.cluster.options.topicPrefix, 'e2e-redrive');
    publisher = transport.publisher();
    const at = new Date();
    placed = createEvent(
      'OrderPlaced',
      {
        orderId,
        customerId: 'customer-redrive',
        items: [{ sku, quantity: 2, unitPrice: 2_900 }],
        total: 5_800,
        currency: 'EUR',
        payment: { token: 'tok_visa' },
        shippingAddress: sampleAddress,
        placedAt: at.toISOString(),
      },
      { source: 'orderflow/orders', time: at },
    );
  });

  afterAll(async () => {
    await publisher?.disconnect();
    await transport?.close();
    await system?.teardown();
  });

  it('leaves a tombstone in payment, inventory and shipping when the cancellation comes first', async () => {
    const wire = encodeEvent(placed);
    // What EventConsumer writes when it parks a message: the original record plus dlq-* headers.
    await publisher.send(
      GROUPS.map((group) => ({
        topic: 'orders.events.dlq',
        key: wire.key,
        value: wire.value,
        headers: {
          ...wire.headers,
          'dlq-error': 'database unavailable past the retry budget (simulated)',
          'dlq-error-name': 'Error',
          'dlq-original-topic': `${system.cluster.options.topicPrefix}orders.events`,
          'dlq-original-partition': '0',
          'dlq-original-offset': '0',
          'dlq-consumer-group': group,
          'dlq-attempts': '3',
          'dlq-at': new Date().toISOString(),
        },
      })),
    );
    const cancelled = createEvent(
      'OrderCancelled',
      { orderId, reason: 'CUSTOMER_CANCELLED', cancelledAt: new Date().toISOString() },
      { source: 'orderflow/orders', time: new Date(), causedBy: placed },
    ) as AnyEvent;
    await publisher.send([{ topic: 'orders.events', ...encodeEvent(cancelled) }]);
    await waitForQuiet(system.cluster);

    expect(await streamTypes('payment', `payment-${orderId}`)).toEqual(['PaymentVoided']);
    expect(await streamTypes('inventory', `reservation-${orderId}`)).toEqual(['ReservationVoided']);
    expect(await streamTypes('shipping', `shipment-${orderId}`)).toEqual(['ShipmentVoided']);
    for (const group of GROUPS) expect(await handled(group)).toBe(false);
  });

  it('lists the letters and changes nothing on a dry run', async () => {
    const listed = await dlq('list', '--topic', 'orders.events', '--type', 'OrderPlaced');
    expect(listed).toMatch(/3 dead letter\(s\), 3 not redriven/);
    const before = await stockOf();
    const dry = await dlq('redrive', '--topic', 'orders.events', '--dry-run');
    expect(dry).toMatch(/would redrive 3 dead letter\(s\).*\(dry run: nothing published\)/);
    await waitForQuiet(system.cluster);
    for (const group of GROUPS) expect(await handled(group)).toBe(false);
    expect(await stockOf()).toEqual(before);
  });

  it('redrives a letter to the group that parked it only, and the late OrderPlaced does nothing', async () => {
    const before = await stockOf();
    expect(await dlq('redrive', '--topic', 'orders.events', '--group', 'payment')).toMatch(/redrove 1 dead letter\(s\)/);
    await waitForQuiet(system.cluster);
    expect(await handled('payment')).toBe(true);
    expect(await handled('inventory')).toBe(false);
    expect(await handled('shipping')).toBe(false);

    expect(await dlq('redrive', '--topic', 'orders.events')).toMatch(/redrove 2 dead letter\(s\).*1 matching letter\(s\) were redriven before/);
    await waitForQuiet(system.cluster);
    for (const group of GROUPS) expect(await handled(group)).toBe(true);

    // Nothing charged, reserved or prepared for the cancelled order.
    expect(await streamTypes('payment', `payment-${orderId}`)).toEqual(['PaymentVoided']);
    expect(await streamTypes('inventory', `reservation-${orderId}`)).toEqual(['ReservationVoided']);
    expect(await streamTypes('shipping', `shipment-${orderId}`)).toEqual(['ShipmentVoided']);
    expect(await system.cluster.query('payment', 'SELECT status FROM payments WHERE order_id = $1', [orderId])).toEqual([{ status: 'VOIDED' }]);
    expect(await system.cluster.query('shipping', 'SELECT status FROM shipments WHERE order_id = $1', [orderId])).toEqual([
      { status: 'VOIDED' },
    ]);
    expect(await stockOf()).toEqual(before);

    // A second redrive finds nothing left to take.
    expect(await dlq('list', '--topic', 'orders.events')).toMatch(/3 dead letter\(s\), 0 not redriven/);
  });

  it('holds every invariant, with only the three letters it parked', async () => {
    await system.assertInvariants({ expectedDeadLetters: { 'orders.events': 3 } });
  });
});
