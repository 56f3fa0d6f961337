import { createEvent, type EventEnvelope } from '@orderflow/contracts';
import { inTransaction, rebuildProjection } from '@orderflow/eventstore';
import type { DataSource } from 'typeorm';
import { ShipmentView } from '../src/shipment/shipment.entity';
import { reactToOrderEvent, type ShippingPolicy } from '../src/shipment/shipment.handler';
import { shipmentIdFor } from '../src/shipment/shipment-id';
import { shipmentsProjection } from '../src/shipment/shipment.projection';
import { createTestDatabase, streamEvents, type TestDatabase } from './support';

const SOURCE = 'orderflow/it-shipping';
const t = (minute: number): Date => new Date(Date.UTC(2025, 10, 20, 10, minute));
const ACME: ShippingPolicy = { carrier: 'ACME', pickupLeadHours: 24 };
const OTHER: ShippingPolicy = { carrier: 'Other Post', pickupLeadHours: 24 };

const placed = (orderId: string): EventEnvelope<'OrderPlaced'> =>
  createEvent(
    'OrderPlaced',
    {
      orderId,
      customerId: 'customer-1',
      items: [{ sku: 'MUG', quantity: 1, unitPrice: 4_500 }],
      total: 4_500,
      currency: 'EUR',
      payment: { token: 'tok_visa' },
      shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'London', postalCode: 'N1', country: 'GB' },
      placedAt: t(0).toISOString(),
    },
    { source: SOURCE, time: t(0) },
  );
const confirmed = (orderId: string): EventEnvelope<'OrderConfirmed'> =>
  createEvent('OrderConfirmed', { orderId, confirmedAt: t(0).toISOString() }, { source: SOURCE, time: t(0) });
const cancelled = (orderId: string): EventEnvelope<'OrderCancelled'> =>
  createEvent('OrderCancelled', { orderId, reason: 'CUSTOMER_CANCELLED', cancelledAt: t(0).toISOString() }, { source: SOURCE, time: t(0) });

describe('shipping against PostgreSQL', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = db.dataSource;
  });
  afterAll(async () => {
    await db?.drop();
  });

  const react = (event: Parameters<typeof reactToOrderEvent>[1], at: Date, policy = ACME) =>
    inTransaction(dataSource, (tx) => reactToOrderEvent(tx, event, policy, at));
  const shipment = (orderId: string) => dataSource.getRepository(ShipmentView).findOneByOrFail({ orderId });

  it('leaves a VOIDED tombstone for an order cancelled before it was placed, and prepares no label when it is placed late', async () => {
    const voided = await react(cancelled('void-1'), t(1));
    const late = await react(placed('void-1'), t(2));
    const again = await react(cancelled('void-1'), t(3));

    expect(voided.map((e) => e.type)).toEqual(['ShipmentVoided']);
    expect(late).toEqual([]);
    expect(again).toEqual([]);
    expect((await streamEvents(dataSource, 'shipment-void-1')).map((e) => e.type)).toEqual(['ShipmentVoided']);
    expect(await shipment('void-1')).toEqual({
      orderId: 'void-1',
      shipmentId: null,
      status: 'VOIDED',
      trackingNumber: null,
      carrier: null,
      pickupAt: null,
      updatedAt: t(1),
    });
  });

  it('keeps the carrier the label was prepared with when the configured carrier changes, and takes the shipment id from the OrderPlaced', async () => {
    const order = placed('carrier-1');
    await react(order, t(1), ACME);
    await react(confirmed('carrier-1'), t(2), OTHER);

    expect(await shipment('carrier-1')).toMatchObject({ status: 'PICKUP_SCHEDULED', carrier: 'ACME', shipmentId: shipmentIdFor(order.id) });
  });

  it('writes the same shipment rows live as a replay of the shipment streams', async () => {
    await react(placed('replay-1'), t(1));
    await react(placed('replay-2'), t(2));
    await react(confirmed('replay-2'), t(3), OTHER);
    await react(placed('replay-3'), t(4));
    await react(cancelled('replay-3'), t(5), OTHER);
    await react(cancelled('replay-4'), t(6));

    const rows = () => dataSource.getRepository(ShipmentView).find({ order: { orderId: 'ASC' } });
    const live = await rows();
    await rebuildProjection(dataSource, shipmentsProjection);

    expect(await rows()).toEqual(live);
    expect(live.filter((s) => s.orderId.startsWith('replay-')).map((s) => [s.orderId, s.status, s.carrier])).toEqual([
      ['replay-1', 'PREPARED', 'ACME'],
      ['replay-2', 'PICKUP_SCHEDULED', 'ACME'],
      ['replay-3', 'CANCELLED', 'ACME'],
      ['replay-4', 'VOIDED', null],
    ]);
  });
});
