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
 * Carries the complete stock levels after the change, not just the delta, so a
 * consumer (and the inventory's own state) needs only the latest event per SKU.
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
  },
  { additionalProperties: false },
);
