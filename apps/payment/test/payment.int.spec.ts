import { createEvent, type EventEnvelope } from '@orderflow/contracts';
import { inTransaction, rebuildProjection } from '@orderflow/eventstore';
import type { DataSource } from 'typeorm';
import { PaymentView } from '../src/payment/payment.entity';
import { reactToOrderEvent } from '../src/payment/payment.handler';
import { paymentIdFor } from '../src/payment/payment-id';
import { paymentsProjection } from '../src/payment/payment.projection';
import { createTestDatabase, streamEvents, type TestDatabase } from './support';

const SOURCE = 'orderflow/it-payment';
const LIMIT = 100_000;
const t = (minute: number): Date => new Date(Date.UTC(2025, 10, 20, 10, minute));

const placed = (orderId: string, token = 'tok_visa'): EventEnvelope<'OrderPlaced'> =>
  createEvent(
    'OrderPlaced',
    {
      orderId,
      customerId: 'customer-1',
      items: [{ sku: 'MUG', quantity: 1, unitPrice: 4_500 }],
      total: 4_500,
      currency: 'EUR',
      payment: { token },
      shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'London', postalCode: 'N1', country: 'GB' },
      placedAt: t(0).toISOString(),
    },
    { source: SOURCE, time: t(0) },
  );
const cancelled = (orderId: string): EventEnvelope<'OrderCancelled'> =>
  createEvent('OrderCancelled', { orderId, reason: 'CUSTOMER_CANCELLED', cancelledAt: t(0).toISOString() }, { source: SOURCE, time: t(0) });

describe('payment against PostgreSQL', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = db.dataSource;
  });
  afterAll(async () => {
    await db?.drop();
  });

  const react = (event: Parameters<typeof reactToOrderEvent>[1], at: Date) =>
    inTransaction(dataSource, (tx) => reactToOrderEvent(tx, event, LIMIT, at));
  const payment = (orderId: string) => dataSource.getRepository(PaymentView).findOneByOrFail({ orderId });

  it('leaves a VOIDED tombstone for an order cancelled before it was placed, and charges nothing when it is placed late', async () => {
    const voided = await react(cancelled('void-1'), t(1));
    const late = await react(placed('void-1'), t(2));
    const again = await react(cancelled('void-1'), t(3));

    expect(voided.map((e) => e.type)).toEqual(['PaymentVoided']);
    expect(late).toEqual([]);
    expect(again).toEqual([]);
    expect((await streamEvents(dataSource, 'payment-void-1')).map((e) => e.type)).toEqual(['PaymentVoided']);
    expect(await payment('void-1')).toEqual({ orderId: 'void-1', paymentId: null, status: 'VOIDED', amount: null, currency: null, updatedAt: t(1) });
  });

  it('takes the payment id from the OrderPlaced it answers, so the same event always makes the same payment', async () => {
    const order = placed('auth-1');
    const [authorized] = await react(order, t(1));

    expect(authorized).toMatchObject({ type: 'PaymentAuthorized', data: { paymentId: paymentIdFor(order.id) } });
    expect(await payment('auth-1')).toMatchObject({ status: 'AUTHORIZED', paymentId: paymentIdFor(order.id), amount: 4_500 });
  });

  it('writes the same payment rows live as a replay of the payment streams', async () => {
    await react(placed('replay-1'), t(1));
    await react(placed('replay-2', 'tok_declined'), t(2));
    await react(placed('replay-3'), t(3));
    await react(cancelled('replay-3'), t(4));
    await react(cancelled('replay-4'), t(5));

    const rows = () => dataSource.getRepository(PaymentView).find({ order: { orderId: 'ASC' } });
    const live = await rows();
    await rebuildProjection(dataSource, paymentsProjection);

    expect(await rows()).toEqual(live);
    expect(live.filter((p) => p.orderId.startsWith('replay-')).map((p) => [p.orderId, p.status])).toEqual([
      ['replay-1', 'AUTHORIZED'],
      ['replay-2', 'DECLINED'],
      ['replay-3', 'REFUNDED'],
      ['replay-4', 'VOIDED'],
    ]);
  });
});
