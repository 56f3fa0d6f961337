import type { EventData } from '@orderflow/contracts';
import { DomainError } from '@orderflow/eventstore';
import {
  decide,
  evolve,
  initialState,
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

// Given / when / then: fold the history with evolve, decide once, return the new events.
const stateAfter = (history: readonly OrderEvent[]): OrderState => history.reduce(evolve, initialState());
const given = (...history: OrderEvent[]) => ({
  when: (command: OrderCommand): OrderEvent[] => decide(command, stateAfter(history)),
});

/** Runs commands one after another, each against the state the previous ones left; returns every event. */
function run(history: readonly OrderEvent[], commands: readonly OrderCommand[]): { events: OrderEvent[]; state: OrderState } {
  let state = stateAfter(history);
  const events: OrderEvent[] = [];
  for (const command of commands) {
    const decided = decide(command, state);
    state = decided.reduce(evolve, state);
    events.push(...decided);
  }
  return { events, state };
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to be refused');
}

describe('order decider', () => {
  describe('placing an order', () => {
    it('places a new order as pending', () => {
      expect(given().when(placeOrder)).toEqual([orderPlaced]);
      expect(stateAfter([orderPlaced])).toEqual({ status: 'PENDING', order, paymentAuthorized: false, stockReserved: false });
    });

    it('refuses to place an order that already exists', () => {
      const error = thrownBy(() => given(orderPlaced).when(placeOrder));
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'ILLEGAL_STATE' });
    });
  });

  describe('confirming', () => {
    it.each([
      ['payment first, then stock', paymentAuthorized, stockReserved],
      ['stock first, then payment', stockReserved, paymentAuthorized],
    ])('confirms once both results arrived (%s)', (_, first, second) => {
      expect(given(orderPlaced).when(record(first))).toEqual([first]);
      expect(given(orderPlaced, first).when(record(second))).toEqual([second, orderConfirmed]);
      expect(stateAfter([orderPlaced, first, second, orderConfirmed])).toEqual({ status: 'CONFIRMED', order });
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
      expect(given(orderPlaced, paymentAuthorized).when(record(paymentAuthorized))).toEqual([paymentAuthorized]);
      expect(given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed).when(record(stockReserved))).toEqual([
        stockReserved,
      ]);
      expect(given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed).when(record(paymentAuthorized))).toEqual([
        paymentAuthorized,
      ]);
    });

    it('confirms exactly once however the results are duplicated and interleaved', () => {
      const { events, state } = run(
        [orderPlaced],
        [paymentAuthorized, paymentAuthorized, stockReserved, stockReserved, paymentAuthorized].map(record),
      );
      expect(events.filter((e) => e.type === 'OrderConfirmed')).toEqual([orderConfirmed]);
      expect(state).toEqual({ status: 'CONFIRMED', order });
    });
  });

  describe('cancelling on a failed result', () => {
    it('cancels the order when payment is declined', () => {
      expect(given(orderPlaced).when(record(paymentDeclined))).toEqual([paymentDeclined, orderCancelled('PAYMENT_DECLINED')]);
    });

    it('cancels the order when the stock is unavailable', () => {
      expect(given(orderPlaced).when(record(stockUnavailable))).toEqual([stockUnavailable, orderCancelled('OUT_OF_STOCK')]);
    });

    it('cancels the order when the stock is unavailable after the payment was authorized', () => {
      expect(given(orderPlaced, paymentAuthorized).when(record(stockUnavailable))).toEqual([
        stockUnavailable,
        orderCancelled('OUT_OF_STOCK'),
      ]);
    });

    it('cancels only once, for the first failure, when both payment and stock fail', () => {
      const { events, state } = run([orderPlaced], [record(paymentDeclined), record(stockUnavailable)]);
      expect(events).toEqual([paymentDeclined, orderCancelled('PAYMENT_DECLINED'), stockUnavailable]);
      expect(state).toEqual({ status: 'CANCELLED', order, reason: 'PAYMENT_DECLINED' });
    });
  });

  describe('completing', () => {
    it('completes a confirmed order when the pickup is scheduled', () => {
      expect(given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed).when(record(pickupScheduled))).toEqual([
        pickupScheduled,
        orderCompleted,
      ]);
      expect(stateAfter([orderPlaced, paymentAuthorized, stockReserved, orderConfirmed, orderCompleted])).toEqual({
        status: 'COMPLETED',
        order,
      });
    });

    it('does not complete a pending order when a pickup is scheduled', () => {
      expect(given(orderPlaced, paymentAuthorized).when(record(pickupScheduled))).toEqual([pickupScheduled]);
    });

    it('does not complete an order twice when the pickup is reported twice', () => {
      expect(
        given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed, pickupScheduled, orderCompleted).when(
          record(pickupScheduled),
        ),
      ).toEqual([pickupScheduled]);
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
      expect(given(orderPlaced).when(cancelOrder)).toEqual([orderCancelled('CUSTOMER_CANCELLED')]);
    });

    it('cancels a confirmed order for the customer', () => {
      expect(given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed).when(cancelOrder)).toEqual([
        orderCancelled('CUSTOMER_CANCELLED'),
      ]);
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
      const error = thrownBy(() => given(...history).when(cancelOrder));
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'ILLEGAL_STATE' });
    });

    it('refuses to cancel an order that does not exist', () => {
      const error = thrownBy(() => given().when(cancelOrder));
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('expiry (the saga deadline)', () => {
    const expire: OrderCommand = { type: 'ExpireOrder', orderId: ORDER_ID, at };

    it('cancels a PENDING order with reason TIMEOUT', () => {
      expect(given(orderPlaced, paymentAuthorized).when(expire)).toEqual([orderCancelled('TIMEOUT')]);
    });

    it('leaves a CONFIRMED, COMPLETED or CANCELLED order alone', () => {
      expect(given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed).when(expire)).toEqual([]);
      expect(given(orderPlaced, paymentAuthorized, stockReserved, orderConfirmed, orderCompleted).when(expire)).toEqual([]);
      expect(given(orderPlaced, orderCancelled('CUSTOMER_CANCELLED')).when(expire)).toEqual([]);
    });

    it('ignores a result that arrives after the timeout, recording it', () => {
      expect(given(orderPlaced, orderCancelled('TIMEOUT')).when(record(stockReserved))).toEqual([stockReserved]);
    });
  });

  describe('unknown orders', () => {
    it.each([paymentAuthorized, stockReserved, paymentDeclined, stockUnavailable, pickupScheduled])(
      'refuses a $type for an order it never saw',
      (outcome) => {
        const error = thrownBy(() => given().when(record(outcome)));
        expect(error).toBeInstanceOf(DomainError);
        expect(error).toMatchObject({ code: 'NOT_FOUND' });
      },
    );
  });
});
