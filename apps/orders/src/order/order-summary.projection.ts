import { upsertRow, type RowUpsert } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import type { OrderState } from './order.decider';
import { OrderSummary } from './order.entities';

/**
 * The order's row in `order_summaries`, from its state. Written in the transaction
 * that appends to the stream, and by replay from the whole log, so both give the
 * same row: everything comes from the events, `now` is the last event's time.
 */
export async function projectSummary(tx: EntityManager, state: OrderState, now: Date): Promise<void> {
  if (state.status === 'NONE') return;
  const { order } = state;
  // In a consumer batch, one upsert for all the batch's orders.
  await upsertRow(tx, summaries, order.orderId, {
      orderId: order.orderId,
      customerId: order.customerId,
      status: state.status,
      reason: state.status === 'CANCELLED' ? state.reason : null,
      items: order.items,
      total: order.total,
      currency: order.currency,
      placedAt: new Date(order.placedAt),
      confirmedAt: state.status === 'CONFIRMED' ? new Date(state.confirmedAt) : null,
    updatedAt: now,
  });
}

const summaries: RowUpsert<OrderSummary> = {
  table: 'order_summaries',
  write: async (tx, rows) => void (await tx.getRepository(OrderSummary).upsert(rows, ['orderId'])),
};
