import { createHash } from 'node:crypto';
import { DomainError } from '@orderflow/domain';
import type { EntityManager } from 'typeorm';
import { IdempotencyKey, OrderSummary } from './order.entities';

/**
 * JSON with the keys of every object sorted, recursively; arrays keep their order
 * (the order of items is part of the request). Two bodies that differ only in key
 * order are the same request.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** What an idempotency key is bound to: the canonical form of the request body. */
export const requestHashOf = (body: unknown): string => sha256(canonicalJson(body));

/**
 * The order an earlier request with this key placed, or undefined for a new key.
 * The same key with another body is refused.
 */
export async function findRepeatedRequest(
  tx: EntityManager,
  customerId: string,
  key: string,
  body: unknown,
): Promise<{ orderId: string; status: string } | undefined> {
  const previous = await tx.getRepository(IdempotencyKey).findOneBy({ customerId, key });
  if (!previous) return undefined;
  // Keys stored before bodies were canonicalized hold the hash of the body as it was sent
  // (after validation, so in the order the client wrote it): a retry of such a request still matches.
  const sameBody = previous.requestHash === requestHashOf(body) || previous.requestHash === sha256(JSON.stringify(body));
  if (!sameBody)
    throw new DomainError('IDEMPOTENCY_MISMATCH', 'this Idempotency-Key was already used with a different request body');
  const summary = await tx.getRepository(OrderSummary).findOneByOrFail({ orderId: previous.orderId });
  return { orderId: summary.orderId, status: summary.status };
}

/** Binds the key to the order, in the transaction that placed it. */
export async function rememberRequest(
  tx: EntityManager,
  entry: { customerId: string; key: string; body: unknown; orderId: string; now: Date },
): Promise<void> {
  await tx.getRepository(IdempotencyKey).insert({
    customerId: entry.customerId,
    key: entry.key,
    requestHash: requestHashOf(entry.body),
    orderId: entry.orderId,
    createdAt: entry.now,
  });
}
