import { DomainError } from '@orderflow/domain';
import type { EntityManager } from 'typeorm';
import { OrderSummary } from './order.entities';
import type { OrderView } from './order.queries';

/** An order as GET /orders lists it: its view without the history, with when it was placed and last changed. */
export type OrderListItem = Omit<OrderView, 'history'> & { placedAt: string; updatedAt: string };

export interface OrderPage {
  orders: OrderListItem[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  next?: string;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * The customer's orders, newest first, a page at a time. Keyset pagination on
 * (placed_at, order_id) — the order_summaries_customer index — so a page costs the
 * same however deep it is and an order placed meanwhile never shifts the next page.
 */
export async function listOrders(tx: EntityManager, customerId: string, query: { limit?: unknown; cursor?: unknown }): Promise<OrderPage> {
  const limit = parseLimit(query.limit);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const rows = await tx
    .getRepository(OrderSummary)
    .createQueryBuilder('s')
    .where('s.customerId = :customerId', { customerId })
    .andWhere(after ? '(s.placedAt, s.orderId) < (:placedAt, :orderId)' : 'TRUE', after ?? {})
    .orderBy('s.placedAt', 'DESC')
    .addOrderBy('s.orderId', 'DESC')
    .limit(limit + 1)
    .getMany();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    orders: page.map((s) => ({
      orderId: s.orderId,
      status: s.status,
      ...(s.reason ? { reason: s.reason } : {}),
      items: s.items,
      total: s.total,
      currency: s.currency,
      placedAt: s.placedAt.toISOString(),
      updatedAt: s.updatedAt.toISOString(),
    })),
    ...(rows.length > limit && last ? { next: encodeCursor(last.placedAt, last.orderId) } : {}),
  };
}

function parseLimit(raw: unknown): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  const limit = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) {
    throw new DomainError('VALIDATION', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, [
      { field: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` },
    ]);
  }
  return limit;
}

const encodeCursor = (placedAt: Date, orderId: string): string => Buffer.from(`${placedAt.toISOString()}|${orderId}`).toString('base64url');

function decodeCursor(cursor: unknown): { placedAt: Date; orderId: string } {
  const [at, orderId] = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString('utf8').split('|') : [];
  const placedAt = new Date(at ?? '');
  if (!orderId || Number.isNaN(placedAt.getTime()) || encodeCursor(placedAt, orderId) !== cursor) {
    throw new DomainError('VALIDATION', 'cursor is not one this API returned', [{ field: 'cursor', message: 'is not one this API returned' }]);
  }
  return { placedAt, orderId };
}
