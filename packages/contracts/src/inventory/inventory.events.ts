import { Type } from '@sinclair/typebox';
import { Currency, Id, Money, Quantity, Sku, Timestamp } from '../shared';

const StockLine = Type.Object({ sku: Sku, quantity: Quantity }, { additionalProperties: false });

export const StockReserved = Type.Object(
  { orderId: Id, lines: Type.Array(StockLine, { minItems: 1 }), reservedAt: Timestamp },
  { additionalProperties: false },
);

export const StockUnavailable = Type.Object(
  {
    orderId: Id,
    shortSkus: Type.Array(
      Type.Object(
        { sku: Sku, requested: Quantity, available: Type.Integer({ minimum: 0 }) },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    checkedAt: Timestamp,
  },
  { additionalProperties: false },
);

export const StockReleased = Type.Object(
  { orderId: Id, lines: Type.Array(StockLine, { minItems: 1 }), releasedAt: Timestamp },
  { additionalProperties: false },
);

/**
 * Tombstone: the order was cancelled before inventory saw it placed. Nothing was
 * reserved, and a later OrderPlaced reserves nothing.
 */
export const ReservationVoided = Type.Object({ orderId: Id, voidedAt: Timestamp }, { additionalProperties: false });

/** The reservation became a sale when the order completed: reserved stock is now committed. */
export const StockCommitted = Type.Object(
  { orderId: Id, lines: Type.Array(StockLine, { minItems: 1 }), committedAt: Timestamp },
  { additionalProperties: false },
);

export const ProductCatalogued = Type.Object(
  {
    sku: Sku,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    unitPrice: Money,
    currency: Currency,
    cataloguedAt: Timestamp,
  },
  { additionalProperties: false },
);

const Level = Type.Integer({ minimum: 0 });

/**
 * Carries the product's complete state after the change (levels, and since the
 * catalog fields were added, name and price), not just a delta: `inventory.products`
 * is compacted, so the latest message per SKU is the whole catalog entry.
 * The catalog fields are optional only so that events recorded before they
 * existed stay valid; inventory always fills them.
 */
export const StockLevelChanged = Type.Object(
  {
    sku: Sku,
    stocked: Level,
    available: Level,
    reserved: Level,
    committed: Level,
    cause: Type.Union([
      Type.Literal('RESTOCKED'),
      Type.Literal('RESERVED'),
      Type.Literal('RELEASED'),
      Type.Literal('COMMITTED'),
    ]),
    orderId: Type.Optional(Id),
    changedAt: Timestamp,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    unitPrice: Type.Optional(Money),
    currency: Type.Optional(Currency),
  },
  { additionalProperties: false },
);
