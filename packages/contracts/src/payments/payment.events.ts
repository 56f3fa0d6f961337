import { Type } from '@sinclair/typebox';
import { Currency, Id, Money, Timestamp } from '../shared';

export const PaymentAuthorized = Type.Object(
  { orderId: Id, paymentId: Id, amount: Money, currency: Currency, authorizedAt: Timestamp },
  { additionalProperties: false },
);

export const PaymentDeclined = Type.Object(
  {
    orderId: Id,
    amount: Money,
    currency: Currency,
    reason: Type.Union([Type.Literal('CARD_DECLINED'), Type.Literal('AMOUNT_OVER_LIMIT')]),
    declinedAt: Timestamp,
  },
  { additionalProperties: false },
);

export const PaymentRefunded = Type.Object(
  { orderId: Id, paymentId: Id, amount: Money, currency: Currency, refundedAt: Timestamp },
  { additionalProperties: false },
);

/**
 * Tombstone: the order was cancelled before payment saw it placed (a redriven or
 * late OrderPlaced). Nothing was charged, and a later OrderPlaced charges nothing.
 */
export const PaymentVoided = Type.Object({ orderId: Id, voidedAt: Timestamp }, { additionalProperties: false });
