import type { AnyEvent } from '@orderflow/contracts';
import { Histogram } from 'prom-client';
import type { OrderState } from './order.decider';

/** Placed → terminal, the latency a customer sees; registered on the service's /metrics by OrderMetrics. */
export const orderLifetime = new Histogram({
  name: 'orderflow_order_lifetime_seconds',
  help: 'Time from an order being placed to its terminal state, by that state (COMPLETED, CANCELLED)',
  labelNames: ['status'],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  registers: [],
});

/**
 * Observes an order that the events just appended made terminal. Observed when
 * decided, inside the transaction: a transaction retried after a conflict (rare)
 * counts its order twice, which a p99 does not notice.
 */
export function observeLifetime(state: OrderState, appended: readonly AnyEvent[], now: Date): void {
  if (state.status !== 'COMPLETED' && state.status !== 'CANCELLED') return;
  if (!appended.some((e) => e.type === 'OrderCompleted' || e.type === 'OrderCancelled')) return;
  orderLifetime.observe({ status: state.status }, Math.max(0, now.getTime() - Date.parse(state.order.placedAt)) / 1000);
}
