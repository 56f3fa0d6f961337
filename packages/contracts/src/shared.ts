import { Type } from '@sinclair/typebox';

/** Amounts are integers in minor units (cents): no floating point money anywhere. */
export const Money = Type.Integer({ minimum: 0, description: 'amount in minor units' });
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' });
export const Sku = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });
export const Quantity = Type.Integer({ minimum: 1, maximum: 10_000 });
export const Timestamp = Type.String({ format: 'date-time' });
export const Id = Type.String({ minLength: 1, maxLength: 128 });
