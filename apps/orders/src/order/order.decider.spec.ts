import type { EventData } from '@orderflow/contracts';
import { deciderSpecification, stateFrom } from '@orderflow/domain';
import {
  orderDecider,
  type ExpiringStatus,
  type OrderCommand,
  type OrderEvent,
  type OrderOutcomeEvent,
  type OrderState,
} from './order.decider';

const ORDER_ID = 'order-1';
const placedAt = new Date('2025-03-01T10:00:00.000Z');
const at = new Date('2025-03-01T10:05:00.000Z');

const order: EventData<'OrderPlaced'> = {
  orderId: ORDER_ID,
  customerId: 'customer-1',
  items: [
    { sku: 'MUG-01', quantity: 2, unitPrice: 1_250 },
    { sku: 'TEE-02', quantity: 1, unitPrice: 2_000 },
  ],
  total: 4_500,
  currency: 'EUR',
  payment: { token: 'tok_visa' },
  shippingAddress: { name: 'Ada Lovelace', line1: '12 St James Sq', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
  placedAt: placedAt.toISOString(),
};

// Events, as the other services and the order itself record them.
const orderPlaced: OrderEvent = { type: 'OrderPlaced', data: order };
const orderConfirmed: OrderEvent = { type: 'OrderConfirmed', data: { orderId: ORDER_ID, confirmedAt: at.toISOString() } };
const orderCompleted: OrderEvent = { type: 'OrderCompleted', data: { orderId: ORDER_ID, completedAt: at.toISOString() } };
const orderCancelled = (reason: EventData<'OrderCancelled'>['reason']): OrderEvent => ({
  type: 'OrderCancelled',
  data: { orderId: ORDER_ID, reason, cancelledAt: at.toISOString() },
});
const paymentAuthorized: OrderOutcomeEvent = {
  type: 'PaymentAuthorized',
  data: { orderId: ORDER_ID, paymentId: 'payment-1', amount: 4_500, currency: 'EUR', authorizedAt: at.toISOString() },
};
const paymentDeclined: OrderOutcomeEvent = {
  type: 'PaymentDeclined',
  data: { orderId: ORDER_ID, amount: 4_500, currency: 'EUR', reason: 'CARD_DECLINED', declinedAt: at.toISOString() },
};
const stockReserved: OrderOutcomeEvent = {
  type: 'StockReserved',
  data: {
    orderId: ORDER_ID,
    lines: [
      { sku: 'MUG-01', quantity: 2 },
      { sku: 'TEE-02', quantity: 1 },
    ],
    reservedAt: at.toISOString(),
  },
};
const stockUnavailable: OrderOutcomeEvent = {
  type: 'StockUnavailable',
  data: { orderId: ORDER_ID, shortSkus: [{ sku: 'MUG-01', requested: 2, available: 1 }], checkedAt: at.toISOString() },
};
const pickupScheduled: OrderOutcomeEvent = {
  type: 'PickupScheduled',
  data: { orderId: ORDER_ID, shipmentId: 'shipment-1', pickupAt: at.toISOString(), scheduledAt: at.toISOString() },
};

// Commands.
const placeOrder: OrderCommand = { type: 'PlaceOrder', order };
const cancelOrder: OrderCommand = { type: 'CancelOrder', orderId: ORDER_ID, at };
const record = (outcome: OrderOutcomeEvent): OrderCommand => ({ type: 'RecordOutcome', outcome, at });

// Given / when / then, from the shared decider specification.
const spec = deciderSpecification(orderDecider);
const given = spec.given;
const stateAfter = (history: readonly OrderEvent[]): OrderState => stateFrom(orderDecider, history);

/** Runs commands one after another, each against the state the previous ones left; returns every event. */
function run(history: readonly OrderEvent[], commands: readonly OrderCommand[]): { events: OrderEvent[]; state: OrderState } {
  let state = stateAfter(history);
  const events: OrderEvent[] = [];
  for (const command of commands) {
    const decided = orderDecider.decide(command, state);
    state = decided.reduce(orderDecider.evolve, state);
    events.push(...decided);
  }
  return { events, state };
}

describe('order decider', () => {
  describe('placing an order', () => {
    it('places a new order as pending', () => {
      given().when(placeOrder).then([orderPlaced]);
      expect(stateAfter([orderPlaced])).toEqual({ status: 'PENDING', order, paymentAuthorized: false, stockReserved: false });
    });

    it('refuses to place an order that already exists', () => {
      given(orderPlaced).when(placeOrder).thenThrows('ILLEGAL_STATE');
    });
  });

  describe('confirming', () => {
    it.each([
      ['payment first, then stock', paymentAuthorized, stockReserved],
      ['stock first, then payment', stockReserved, paymentAuthorized],
    ])('confirms once both results arrived (%s)', (_, first, second) => {
      given(orderPlaced).when(record(first)).then([first]);
      given(orderPlaced, first).when(record(second)).then([second, orderConfirmed]);
      expect(stateAfter([orderPlaced, first, second, orderConfirmed])).toEqual({
        status: 'CONFIRMED',
        order,
        confirmedAt: at.toISOString(),
      });
    });

    it('stays pending while only the payment was authorized', () => {
      const { state } = run([orderPlaced], [record(paymentAuthorized)]);
      expect(state).toMatchObject({ status: 'PENDING', paymentAuthorized: true, stockReserved: false });
    });

    it('stays pending while only the stock was reserved', () => {
      const { state } = run([orderPlaced], [record(stockReserved)]);
      expect(state).toMatchObject({ status: 'PENDING', paymentAuthorized: false, stockReserved: true });
    });

    it('does not confirm twice when a result is delivered twice', () => {
      given(orderPlaced, paymentAuthorized).when(record(paymentAuthorized)).then([paymentAuthorized]);
      given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed).when(record(stockReserved)).then([stockReserved]);
      given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed)
        .when(record(paymentAuthorized))
        .then([paymentAuthorized]);
    });

    it('confirms exactly once however the results are duplicated and interleaved', () => {
      const { events, state } = run(
        [orderPlaced],
        [paymentAuthorized, paymentAuthorized, stockReserved, stockReserved, paymentAuthorized].map(record),
      );
      expect(events.filter((e) => e.type === 'OrderConfirmed')).toEqual([orderConfirmed]);
      expect(state).toEqual({ status: 'CONFIRMED', order, confirmedAt: at.toISOString() });
    });
  });

  describe('cancelling on a failed result', () => {
    it('cancels the order when payment is declined', () => {
      given(orderPlaced)
        .when(record(paymentDeclined))
        .then([paymentDeclined, orderCancelled('PAYMENT_DECLINED')]);
    });

    it('cancels the order when the stock is unavailable', () => {
      given(orderPlaced)
        .when(record(stockUnavailable))
        .then([stockUnavailable, orderCancelled('OUT_OF_STOCK')]);
    });

    it('cancels the order when the stock is unavailable after the payment was authorized', () => {
      given(orderPlaced, paymentAuthorized)
        .when(record(stockUnavailable))
        .then([stockUnavailable, orderCancelled('OUT_OF_STOCK')]);
    });

    it('cancels only once, for the first failure, when both payment and stock fail', () => {
      const { events, state } = run([orderPlaced], [record(paymentDeclined), record(stockUnavailable)]);
      expect(events).toEqual([paymentDeclined, orderCancelled('PAYMENT_DECLINED'), stockUnavailable]);
      expect(state).toEqual({ status: 'CANCELLED', order, reason: 'PAYMENT_DECLINED' });
    });
  });

  describe('completing', () => {
    it('completes a confirmed order when the pickup is scheduled', () => {
      given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed)
        .when(record(pickupScheduled))
        .then([pickupScheduled, orderCompleted]);
      expect(stateAfter([orderPlaced, paymentAuthorized, stockReserved, orderConfirmed, orderCompleted])).toEqual({
        status: 'COMPLETED',
        order,
      });
    });

    it('does not complete a pending order when a pickup is scheduled', () => {
      given(orderPlaced, paymentAuthorized).when(record(pickupScheduled)).then([pickupScheduled]);
    });

    it('does not complete an order twice when the pickup is reported twice', () => {
      given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed, pickupScheduled, orderCompleted)
        .when(record(pickupScheduled))
        .then([pickupScheduled]);
    });
  });

  describe('results arriving after the order was cancelled', () => {
    const cancelledHistory = [orderPlaced, orderCancelled('CUSTOMER_CANCELLED')];

    it.each([paymentAuthorized, stockReserved, paymentDeclined, stockUnavailable, pickupScheduled])(
      'records a late $type and changes nothing else',
      (outcome) => {
        const { events, state } = run(cancelledHistory, [record(outcome)]);
        expect(events).toEqual([outcome]);
        expect(state).toEqual({ status: 'CANCELLED', order, reason: 'CUSTOMER_CANCELLED' });
      },
    );

    it('does not confirm a cancelled order when both results arrive late', () => {
      const { events, state } = run(cancelledHistory, [record(paymentAuthorized), record(stockReserved)]);
      expect(events).toEqual([paymentAuthorized, stockReserved]);
      expect(state).toEqual({ status: 'CANCELLED', order, reason: 'CUSTOMER_CANCELLED' });
    });
  });

  describe('customer cancellation', () => {
    it('cancels a pending order for the customer', () => {
      given(orderPlaced)
        .when(cancelOrder)
        .then([orderCancelled('CUSTOMER_CANCELLED')]);
    });

    it('cancels a confirmed order for the customer', () => {
      given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed)
        .when(cancelOrder)
        .then([orderCancelled('CUSTOMER_CANCELLED')]);
      expect(stateAfter([orderPlaced, orderConfirmed, orderCancelled('CUSTOMER_CANCELLED')])).toEqual({
        status: 'CANCELLED',
        order,
        reason: 'CUSTOMER_CANCELLED',
      });
    });

    it.each([
      ['completed', [orderPlaced, paymentAuthorized, stockReserved, orderConfirmed, pickupScheduled, orderCompleted]],
      ['already cancelled', [orderPlaced, paymentDeclined, orderCancelled('PAYMENT_DECLINED')]],
    ])('refuses to cancel an order that is %s', (_, history) => {
      given(...history)
        .when(cancelOrder)
        .thenThrows('ILLEGAL_STATE');
    });

    it('refuses to cancel an order that does not exist', () => {
      given().when(cancelOrder).thenThrows('NOT_FOUND');
    });
  });

  describe('expiry (the saga deadlines)', () => {
    const expire = (status: ExpiringStatus): OrderCommand => ({ type: 'ExpireOrder', orderId: ORDER_ID, at, status });
    const confirmedHistory = [orderPlaced, paymentAuthorized, stockReserved, orderConfirmed];

    it('cancels an order still PENDING at its deadline with reason TIMEOUT', () => {
      given(orderPlaced, paymentAuthorized)
        .when(expire('PENDING'))
        .then([orderCancelled('TIMEOUT')]);
    });

    it('cancels an order still CONFIRMED at its deadline (no pickup scheduled) with reason TIMEOUT', () => {
      given(...confirmedHistory)
        .when(expire('CONFIRMED'))
        .then([orderCancelled('TIMEOUT')]);
      expect(stateAfter([...confirmedHistory, orderCancelled('TIMEOUT')])).toEqual({
        status: 'CANCELLED',
        order,
        reason: 'TIMEOUT',
      });
    });

    it('does not let the PENDING deadline cancel an order that was confirmed meanwhile', () => {
      given(...confirmedHistory)
        .when(expire('PENDING'))
        .thenNothingHappened();
    });

    it('does not let the CONFIRMED deadline cancel an order that is still PENDING', () => {
      given(orderPlaced, paymentAuthorized).when(expire('CONFIRMED')).thenNothingHappened();
    });

    it.each(['PENDING', 'CONFIRMED'] as const)('leaves a COMPLETED or CANCELLED order alone at the %s deadline', (status) => {
      given(...confirmedHistory, pickupScheduled, orderCompleted)
        .when(expire(status))
        .thenNothingHappened();
      given(orderPlaced, orderCancelled('CUSTOMER_CANCELLED')).when(expire(status)).thenNothingHappened();
      given(...confirmedHistory, orderCancelled('TIMEOUT'))
        .when(expire(status))
        .thenNothingHappened();
    });

    it('expires an order only once when two sweeps run', () => {
      const { events } = run(confirmedHistory, [expire('CONFIRMED'), expire('CONFIRMED')]);
      expect(events).toEqual([orderCancelled('TIMEOUT')]);
    });

    it('ignores an order it never saw', () => {
      given().when(expire('PENDING')).thenNothingHappened();
      given().when(expire('CONFIRMED')).thenNothingHappened();
    });

    it('records a result that arrives after the timeout and changes nothing else', () => {
      given(orderPlaced, orderCancelled('TIMEOUT')).when(record(stockReserved)).then([stockReserved]);
      given(...confirmedHistory, orderCancelled('TIMEOUT'))
        .when(record(pickupScheduled))
        .then([pickupScheduled]);
    });

    it('remembers when the order was confirmed, which starts the CONFIRMED deadline', () => {
      expect(stateAfter(confirmedHistory)).toEqual({ status: 'CONFIRMED', order, confirmedAt: at.toISOString() });
    });
  });

  describe('unknown orders', () => {
    it.each([paymentAuthorized, stockReserved, paymentDeclined, stockUnavailable, pickupScheduled])(
      'refuses a $type for an order it never saw',
      (outcome) => {
        given().when(record(outcome)).thenThrows('NOT_FOUND');
      },
    );
  });
});
