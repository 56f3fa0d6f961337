import type { DomainEvent, EventData } from '@orderflow/contracts';
import { DomainError, type Decider } from '@orderflow/domain';

/** Events the orders service owns and publishes on `orders.events`. */
export type OrderOwnEvent = DomainEvent<'OrderPlaced' | 'OrderConfirmed' | 'OrderCancelled' | 'OrderCompleted'>;

/** Results of the other services that the saga records in the order's stream (not republished). */
export type OrderOutcomeEvent = DomainEvent<
  | 'PaymentAuthorized'
  | 'PaymentDeclined'
  | 'PaymentRefunded'
  | 'StockReserved'
  | 'StockUnavailable'
  | 'StockReleased'
  | 'StockCommitted'
  | 'ShipmentPrepared'
  | 'PickupScheduled'
  | 'ShipmentCancelled'
>;

export type OrderEvent = OrderOwnEvent | OrderOutcomeEvent;

/** Every outcome the saga records: `RecordOutcome` always appends the outcome itself, with its own id, before reacting to it. */
export const OUTCOME_TYPES = [
  'PaymentAuthorized',
  'PaymentDeclined',
  'PaymentRefunded',
  'StockReserved',
  'StockUnavailable',
  'StockReleased',
  'StockCommitted',
  'ShipmentPrepared',
  'PickupScheduled',
  'ShipmentCancelled',
] as const satisfies readonly OrderOutcomeEvent['type'][];
const outcomeTypes: ReadonlySet<string> = new Set(OUTCOME_TYPES);
export const isOutcomeType = (type: string): type is OrderOutcomeEvent['type'] => outcomeTypes.has(type);

export const OWN_EVENT_TYPES: ReadonlySet<string> = new Set(['OrderPlaced', 'OrderConfirmed', 'OrderCancelled', 'OrderCompleted']);
export const isOwnEvent = (e: OrderEvent): e is OrderOwnEvent => OWN_EVENT_TYPES.has(e.type);

type Placed = EventData<'OrderPlaced'>;
export type CancellationReason = EventData<'OrderCancelled'>['reason'];

export type OrderState =
  | { status: 'NONE' }
  | { status: 'PENDING'; order: Placed; paymentAuthorized: boolean; stockReserved: boolean }
  /** `confirmedAt` starts the CONFIRMED deadline. */
  | { status: 'CONFIRMED'; order: Placed; confirmedAt: string }
  | { status: 'COMPLETED'; order: Placed }
  | { status: 'CANCELLED'; order: Placed; reason: CancellationReason };

export type OrderCommand =
  | { type: 'PlaceOrder'; order: Placed }
  | { type: 'CancelOrder'; orderId: string; at: Date }
  /**
   * A deadline passed: payment or stock never answered (PENDING), or the pickup was
   * never scheduled (CONFIRMED). Give up, and let every service compensate. `status`
   * names the deadline that passed, so a sweep of one kind never cancels an order
   * that has moved on to the other.
   */
  | { type: 'ExpireOrder'; orderId: string; at: Date; status: ExpiringStatus }
  /** The saga: a result from payment, inventory or shipping arrived. */
  | { type: 'RecordOutcome'; outcome: OrderOutcomeEvent; at: Date };

/** The statuses that have a deadline. */
export type ExpiringStatus = 'PENDING' | 'CONFIRMED';

export const initialState = (): OrderState => ({ status: 'NONE' });

/** Field by field: whatever else the caller's object carries never reaches the contract. */
function placed(order: Placed): Placed {
  const { name, line1, city, postalCode, country } = order.shippingAddress;
  return {
    orderId: order.orderId,
    customerId: order.customerId,
    items: order.items.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
    total: order.total,
    currency: order.currency,
    payment: { token: order.payment.token },
    shippingAddress: { name, line1, city, postalCode, country },
    placedAt: order.placedAt,
  };
}

function cancelled(orderId: string, reason: CancellationReason, at: Date): OrderOwnEvent {
  return { type: 'OrderCancelled', data: { orderId, reason, cancelledAt: at.toISOString() } };
}

export function decide(command: OrderCommand, state: OrderState): OrderEvent[] {
  switch (command.type) {
    case 'PlaceOrder':
      if (state.status !== 'NONE') throw new DomainError('ILLEGAL_STATE', `order ${command.order.orderId} already exists`);
      return [{ type: 'OrderPlaced', data: placed(command.order) }];
    case 'CancelOrder':
      if (state.status === 'NONE') throw new DomainError('NOT_FOUND', `order ${command.orderId} not found`);
      if (state.status !== 'PENDING' && state.status !== 'CONFIRMED') {
        throw new DomainError('ILLEGAL_STATE', `order ${command.orderId} is ${state.status} and can no longer be cancelled`);
      }
      return [cancelled(command.orderId, 'CUSTOMER_CANCELLED', command.at)];
    case 'ExpireOrder':
      return state.status === command.status ? [cancelled(command.orderId, 'TIMEOUT', command.at)] : [];
    case 'RecordOutcome':
      return [command.outcome, ...react(command.outcome, state, command.at)];
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * The order saga. Results may arrive in any order, or after the order was already
 * cancelled; compensation needs no command from here, because payment, inventory
 * and shipping each undo their own work when they see OrderCancelled.
 */
function react(outcome: OrderOutcomeEvent, state: OrderState, at: Date): OrderOwnEvent[] {
  if (state.status === 'NONE') {
    throw new DomainError('NOT_FOUND', `${outcome.type} refers to unknown order ${outcome.data.orderId}`);
  }
  const orderId = state.order.orderId;
  const confirmed: OrderOwnEvent = { type: 'OrderConfirmed', data: { orderId, confirmedAt: at.toISOString() } };
  switch (outcome.type) {
    case 'PaymentAuthorized':
      return state.status === 'PENDING' && state.stockReserved ? [confirmed] : [];
    case 'StockReserved':
      return state.status === 'PENDING' && state.paymentAuthorized ? [confirmed] : [];
    case 'PaymentDeclined':
      return state.status === 'PENDING' ? [cancelled(orderId, 'PAYMENT_DECLINED', at)] : [];
    case 'StockUnavailable':
      return state.status === 'PENDING' ? [cancelled(orderId, 'OUT_OF_STOCK', at)] : [];
    case 'PickupScheduled':
      return state.status === 'CONFIRMED'
        ? [{ type: 'OrderCompleted', data: { orderId, completedAt: at.toISOString() } }]
        : [];
    case 'PaymentRefunded':
    case 'StockReleased':
    case 'StockCommitted':
    case 'ShipmentPrepared':
    case 'ShipmentCancelled':
      return [];
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(unknown)}`);
    }
  }
}

export function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderPlaced':
      return { status: 'PENDING', order: event.data, paymentAuthorized: false, stockReserved: false };
    case 'OrderConfirmed':
      return state.status === 'PENDING' ? { status: 'CONFIRMED', order: state.order, confirmedAt: event.data.confirmedAt } : state;
    case 'OrderCancelled':
      return state.status === 'NONE' ? state : { status: 'CANCELLED', order: state.order, reason: event.data.reason };
    case 'OrderCompleted':
      return state.status === 'CONFIRMED' ? { status: 'COMPLETED', order: state.order } : state;
    case 'PaymentAuthorized':
      return state.status === 'PENDING' ? { ...state, paymentAuthorized: true } : state;
    case 'StockReserved':
      return state.status === 'PENDING' ? { ...state, stockReserved: true } : state;
    case 'PaymentDeclined':
    case 'PaymentRefunded':
    case 'StockUnavailable':
    case 'StockReleased':
    case 'StockCommitted':
    case 'ShipmentPrepared':
    case 'PickupScheduled':
    case 'ShipmentCancelled':
      return state;
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}

export const orderDecider: Decider<OrderState, OrderCommand, OrderEvent> = { initialState, decide, evolve };

export const orderStream = (orderId: string): string => `order-${orderId}`;
