import type { EntityManager } from 'typeorm';
import { executeOrderCommand } from './execute-order-command';
import { findOwnedSummary } from './order.queries';
import { orderTraceFor } from './order-trace';

/** The customer cancels their own PENDING or CONFIRMED order; the others compensate on OrderCancelled. */
export async function cancelOrder(tx: EntityManager, customerId: string, orderId: string, now: Date): Promise<void> {
  await findOwnedSummary(tx, customerId, orderId);
  await executeOrderCommand(tx, orderId, { type: 'CancelOrder', orderId, at: now }, now, undefined, await orderTraceFor(tx, orderId, 'CancelOrder'));
}
