import { Type, type Static } from '@sinclair/typebox';
import { Quantity, ShippingAddress, Sku } from '@orderflow/contracts';

/** Body of POST /orders; unknown fields are refused so a typo never goes unnoticed. */
export const PlaceOrderBody = Type.Object(
  {
    items: Type.Array(Type.Object({ sku: Sku, quantity: Quantity }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 50,
    }),
    payment: Type.Object({ token: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
    shippingAddress: ShippingAddress,
  },
  { additionalProperties: false },
);
export type PlaceOrderBody = Static<typeof PlaceOrderBody>;

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,200}$/;
