import { Type } from '@sinclair/typebox';
import { Currency, Id, Money, Quantity, Sku, Timestamp } from '../shared';

export const OrderLine = Type.Object(
  { sku: Sku, quantity: Quantity, unitPrice: Money },
  { additionalProperties: false },
);

export const ShippingAddress = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    line1: Type.String({ minLength: 1, maxLength: 200 }),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    postalCode: Type.String({ minLength: 1, maxLength: 20 }),
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' }),
  },
  { additionalProperties: false },
);

export const CancellationReason = Type.Union([
  Type.Literal('PAYMENT_DECLINED'),
  Type.Literal('OUT_OF_STOCK'),
  Type.Literal('CUSTOMER_CANCELLED'),
  Type.Literal('TIMEOUT'),
]);

export const OrderPlaced = Type.Object(
  {
    orderId: Id,
    customerId: Id,
    items: Type.Array(OrderLine, { minItems: 1, maxItems: 100 }),
    total: Money,
    currency: Currency,
    payment: Type.Object({ token: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
    shippingAddress: ShippingAddress,
    placedAt: Timestamp,
  },
  { additionalProperties: false },
);

export const OrderConfirmed = Type.Object(
  { orderId: Id, confirmedAt: Timestamp },
  { additionalProperties: false },
);

export const OrderCancelled = Type.Object(
  { orderId: Id, reason: CancellationReason, cancelledAt: Timestamp },
  { additionalProperties: false },
);

export const OrderCompleted = Type.Object(
  { orderId: Id, completedAt: Timestamp },
  { additionalProperties: false },
);
