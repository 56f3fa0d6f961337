import { validateEventData, type EventData } from '@orderflow/contracts';
import { DomainError } from '@orderflow/domain';
import fc from 'fast-check';
import { orderDecider, type OrderCommand, type OrderEvent, type OrderOutcomeEvent, type OrderState } from './order.decider';

// Generators at the contract's limits (packages/contracts/src/shared.ts and the event schemas).
const id = fc.oneof(fc.string({ minLength: 1, maxLength: 128 }), fc.string({ minLength: 128, maxLength: 128 }));
const sku = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
const quantity = fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom(1, 10_000));
const money = fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, Number.MAX_SAFE_INTEGER));
const currency = fc.stringMatching(/^[A-Z]{3}$/);
const date = fc.date({
  min: new Date('1970-01-01T00:00:00.000Z'),
  max: new Date('9999-12-31T23:59:59.999Z'),
  noInvalidDate: true,
});
const timestamp = date.map((d) => d.toISOString());
const text = (maxLength: number) => fc.string({ minLength: 1, maxLength });

const placed = (orderId: string): fc.Arbitrary<EventData<'OrderPlaced'>> =>
  fc.record({
    orderId: fc.constant(orderId),
    customerId: id,
    items: fc.oneof(
      fc.array(fc.record({ sku, quantity, unitPrice: money }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.record({ sku, quantity, unitPrice: money }), { minLength: 100, maxLength: 100 }),
    ),
    total: money,
    currency,
    payment: fc.record({ token: text(100) }),
    shippingAddress: fc.record({
      name: text(200),
      line1: text(200),
      city: text(100),
      postalCode: text(20),
      country: fc.stringMatching(/^[A-Z]{2}$/),
    }),
    placedAt: timestamp,
  });

const stockLines = fc.array(fc.record({ sku, quantity }), { minLength: 1, maxLength: 20 });

const outcome = (orderId: string): fc.Arbitrary<OrderOutcomeEvent> =>
  fc.oneof(
    fc
      .record({ orderId: fc.constant(orderId), paymentId: id, amount: money, currency, authorizedAt: timestamp })
      .map((data) => ({ type: 'PaymentAuthorized', data }) as const),
    fc
      .record({
        orderId: fc.constant(orderId),
        amount: money,
        currency,
        reason: fc.constantFrom('CARD_DECLINED' as const, 'AMOUNT_OVER_LIMIT' as const),
        declinedAt: timestamp,
      })
      .map((data) => ({ type: 'PaymentDeclined', data }) as const),
    fc
      .record({ orderId: fc.constant(orderId), paymentId: id, amount: money, currency, refundedAt: timestamp })
      .map((data) => ({ type: 'PaymentRefunded', data }) as const),
    fc
      .record({ orderId: fc.constant(orderId), lines: stockLines, reservedAt: timestamp })
      .map((data) => ({ type: 'StockReserved', data }) as const),
    fc
      .record({
        orderId: fc.constant(orderId),
        shortSkus: fc.array(fc.record({ sku, requested: quantity, available: fc.nat() }), { minLength: 1, maxLength: 20 }),
        checkedAt: timestamp,
      })
      .map((data) => ({ type: 'StockUnavailable', data }) as const),
    fc
      .record({ orderId: fc.constant(orderId), lines: stockLines, releasedAt: timestamp })
      .map((data) => ({ type: 'StockReleased', data }) as const),
    fc
      .record({ orderId: fc.constant(orderId), lines: stockLines, committedAt: timestamp })
      .map((data) => ({ type: 'StockCommitted', data }) as const),
    fc
      .record({
        orderId: fc.constant(orderId),
        shipmentId: id,
        carrier: text(100),
        trackingNumber: text(100),
        preparedAt: timestamp,
      })
      .map((data) => ({ type: 'ShipmentPrepared', data }) as const),
    fc
      .record({ orderId: fc.constant(orderId), shipmentId: id, pickupAt: timestamp, scheduledAt: timestamp })
      .map((data) => ({ type: 'PickupScheduled', data }) as const),
    fc
      .record({ orderId: fc.constant(orderId), shipmentId: id, cancelledAt: timestamp })
      .map((data) => ({ type: 'ShipmentCancelled', data }) as const),
  );

/** One order's life: any commands, in any order, repeated, before or after it was placed or ended. */
const commandsFor = (orderId: string): fc.Arbitrary<OrderCommand[]> =>
  fc.array(
    fc.oneof(
      placed(orderId).map((order): OrderCommand => ({ type: 'PlaceOrder', order })),
      date.map((at): OrderCommand => ({ type: 'CancelOrder', orderId, at })),
      fc
        .tuple(date, fc.constantFrom('PENDING' as const, 'CONFIRMED' as const))
        .map(([at, status]): OrderCommand => ({ type: 'ExpireOrder', orderId, at, status })),
      fc.tuple(outcome(orderId), date).map(([o, at]): OrderCommand => ({ type: 'RecordOutcome', outcome: o, at })),
    ),
    { maxLength: 25 },
  );

const life = id.chain((orderId) => fc.tuple(fc.constant(orderId), placed(orderId), commandsFor(orderId)));

/** Runs the commands against the decider as the handlers do; refusals are answers, not failures. */
function run(commands: readonly OrderCommand[]): OrderEvent[] {
  let state: OrderState = orderDecider.initialState();
  const emitted: OrderEvent[] = [];
  for (const command of commands) {
    let decided: OrderEvent[];
    try {
      decided = orderDecider.decide(command, state);
    } catch (error) {
      if (error instanceof DomainError) continue;
      throw error;
    }
    emitted.push(...decided);
    state = decided.reduce(orderDecider.evolve, state);
  }
  return emitted;
}

describe('the order decider and the event contract (property-based)', () => {
  it('emits only events whose data passes the strict contract, for any order and any sequence of commands', () => {
    fc.assert(
      fc.property(life, ([, order, commands]) => {
        const all: OrderCommand[] = [{ type: 'PlaceOrder', order }, ...commands];
        for (const event of run(all)) validateEventData(event.type, event.data);
      }),
      { numRuns: 150 },
    );
  });

  it('confirms at most once and ends an order at most once, whatever arrives twice or late', () => {
    fc.assert(
      fc.property(life, ([, order, commands]) => {
        const own = run([{ type: 'PlaceOrder', order }, ...commands]).map((e) => e.type);
        const count = (type: string) => own.filter((t) => t === type).length;
        expect(count('OrderPlaced')).toBe(1);
        expect(count('OrderConfirmed')).toBeLessThanOrEqual(1);
        expect(count('OrderCompleted') + count('OrderCancelled')).toBeLessThanOrEqual(1);
      }),
      { numRuns: 150 },
    );
  });

  it('copies OrderPlaced field by field: extra fields on the command never reach the event', () => {
    fc.assert(
      fc.property(life, fc.string(), ([, order], extra) => {
        const padded = { ...order, internalNote: extra, shippingAddress: { ...order.shippingAddress, phone: extra } };
        const [event] = run([{ type: 'PlaceOrder', order: padded }]);
        expect(event).toEqual({ type: 'OrderPlaced', data: order });
        validateEventData('OrderPlaced', event!.data);
      }),
      { numRuns: 50 },
    );
  });
});
