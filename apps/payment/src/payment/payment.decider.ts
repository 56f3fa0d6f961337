import type { DomainEvent } from '@orderflow/contracts';
import type { Decider } from '@orderflow/domain';

export type PaymentEvent = DomainEvent<'PaymentAuthorized' | 'PaymentDeclined' | 'PaymentRefunded' | 'PaymentVoided'>;

export type PaymentState =
  | { status: 'NONE' }
  | { status: 'AUTHORIZED'; orderId: string; paymentId: string; amount: number; currency: string }
  | { status: 'DECLINED'; orderId: string; amount: number; currency: string }
  | { status: 'REFUNDED'; orderId: string; paymentId: string; amount: number; currency: string }
  /** Tombstone: cancelled before payment saw the order placed; nothing was charged and nothing will be. */
  | { status: 'VOIDED'; orderId: string };

export type PaymentCommand =
  | {
      type: 'AuthorizePayment';
      orderId: string;
      paymentId: string;
      amount: number;
      currency: string;
      token: string;
      limit: number;
      at: Date;
    }
  | { type: 'RefundPayment'; orderId: string; at: Date };

/** The simulated provider: deterministic by token, so tests and demos can choose the outcome. */
export const APPROVING_TOKENS: ReadonlySet<string> = new Set(['tok_visa', 'tok_mastercard', 'tok_amex']);

export const initialState = (): PaymentState => ({ status: 'NONE' });

export function decide(command: PaymentCommand, state: PaymentState): PaymentEvent[] {
  switch (command.type) {
    case 'AuthorizePayment': {
      // Decided already, or voided: a redelivered or late OrderPlaced charges nothing.
      if (state.status !== 'NONE') return [];
      const { orderId, amount, currency } = command;
      const at = command.at.toISOString();
      if (!APPROVING_TOKENS.has(command.token)) {
        return [{ type: 'PaymentDeclined', data: { orderId, amount, currency, reason: 'CARD_DECLINED', declinedAt: at } }];
      }
      if (amount > command.limit) {
        return [{ type: 'PaymentDeclined', data: { orderId, amount, currency, reason: 'AMOUNT_OVER_LIMIT', declinedAt: at } }];
      }
      return [{ type: 'PaymentAuthorized', data: { orderId, paymentId: command.paymentId, amount, currency, authorizedAt: at } }];
    }
    case 'RefundPayment':
      // Cancelled before the order reached payment: record it, so the late OrderPlaced charges nothing.
      if (state.status === 'NONE') return [{ type: 'PaymentVoided', data: { orderId: command.orderId, voidedAt: command.at.toISOString() } }];
      // Only an authorization leaves a charge to give back; anything else is already settled.
      if (state.status !== 'AUTHORIZED') return [];
      return [
        {
          type: 'PaymentRefunded',
          data: {
            orderId: state.orderId,
            paymentId: state.paymentId,
            amount: state.amount,
            currency: state.currency,
            refundedAt: command.at.toISOString(),
          },
        },
      ];
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${JSON.stringify(unknown)}`);
    }
  }
}

export function evolve(state: PaymentState, event: PaymentEvent): PaymentState {
  switch (event.type) {
    case 'PaymentAuthorized': {
      const { orderId, paymentId, amount, currency } = event.data;
      return { status: 'AUTHORIZED', orderId, paymentId, amount, currency };
    }
    case 'PaymentDeclined': {
      const { orderId, amount, currency } = event.data;
      return { status: 'DECLINED', orderId, amount, currency };
    }
    case 'PaymentRefunded': {
      const { orderId, paymentId, amount, currency } = event.data;
      return { status: 'REFUNDED', orderId, paymentId, amount, currency };
    }
    case 'PaymentVoided':
      return { status: 'VOIDED', orderId: event.data.orderId };
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}

export const paymentDecider: Decider<PaymentState, PaymentCommand, PaymentEvent> = { initialState, decide, evolve };

export const paymentStream = (orderId: string): string => `payment-${orderId}`;
