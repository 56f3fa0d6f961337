import { LessThan, type EntityManager } from 'typeorm';
import { executeOrderCommand } from './execute-order-command';
import { orderTraceFor } from './order-trace';
import type { ExpiringStatus } from './order.decider';
import { OrderSummary } from './order.entities';

/**
 * Cancels the order with reason TIMEOUT if it is still in `status`, whose deadline
 * passed; true when it did. An order that moved on meanwhile is left alone.
 */
export async function expireOrder(tx: EntityManager, orderId: string, status: ExpiringStatus, now: Date): Promise<boolean> {
  const traceparent = await orderTraceFor(tx, orderId, 'ExpireOrder');
  const { appended } = await executeOrderCommand(tx, orderId, { type: 'ExpireOrder', orderId, at: now, status }, now, undefined, traceparent);
  return appended.length > 0;
}

/**
 * Orders whose deadline passed, oldest first: PENDING since before `since` (by
 * placed_at), or CONFIRMED since before `since` (by confirmed_at, the time of
 * OrderConfirmed, not updated_at, which later recorded outcomes move on).
 */
export async function findExpiredOrders(tx: EntityManager, status: ExpiringStatus, since: Date, limit = 100): Promise<string[]> {
  const column = status === 'PENDING' ? 'placedAt' : 'confirmedAt';
  const rows = await tx.getRepository(OrderSummary).find({
    select: { orderId: true },
    where: { status, [column]: LessThan(since) },
    order: { [column]: 'ASC' },
    take: limit,
  });
  return rows.map((r) => r.orderId);
}
