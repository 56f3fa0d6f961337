import { recordsetUpsert, upsertRow } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import { announcingOrders } from '../live/order-notifications';
import type { OrderState } from './order.decider';
import { type OrderSummary } from './order.entities';

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

// Announced in the same transaction on a PostgreSQL channel: live streams on every instance hear of it.
const summaries = announcingOrders(recordsetUpsert<OrderSummary>('order_summaries', 'order_id', [
  { name: 'order_id', type: 'text', value: (r) => r.orderId },
  { name: 'customer_id', type: 'text', value: (r) => r.customerId },
  { name: 'status', type: 'text', value: (r) => r.status },
  { name: 'reason', type: 'text', value: (r) => r.reason },
  { name: 'items', type: 'jsonb', value: (r) => r.items },
  { name: 'total', type: 'bigint', value: (r) => r.total },
  { name: 'currency', type: 'text', value: (r) => r.currency },
  { name: 'placed_at', type: 'timestamptz', value: (r) => r.placedAt },
  { name: 'confirmed_at', type: 'timestamptz', value: (r) => r.confirmedAt },
  { name: 'updated_at', type: 'timestamptz', value: (r) => r.updatedAt },
]));
