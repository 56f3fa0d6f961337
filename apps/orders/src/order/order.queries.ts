import { readStream } from '@orderflow/eventstore';
import { DomainError } from '@orderflow/domain';
import type { EntityManager } from 'typeorm';
import { orderStream } from './order.decider';
import { OrderSummary } from './order.entities';

export interface OrderView {
  orderId: string;
  status: string;
  reason?: string;
  items: { sku: string; quantity: number; unitPrice: number }[];
  total: number;
  currency: string;
  history: { type: string; at: string; source: string }[];
}

/** Another customer's order answers exactly like a missing one. */
export async function findOwnedSummary(tx: EntityManager, customerId: string, orderId: string): Promise<OrderSummary> {
  const summary = await tx.getRepository(OrderSummary).findOneBy({ orderId });
  if (!summary || summary.customerId !== customerId) throw new DomainError('NOT_FOUND', `order ${orderId} not found`);
  return summary;
}

export async function getOrder(tx: EntityManager, customerId: string, orderId: string): Promise<OrderView> {
  const summary = await findOwnedSummary(tx, customerId, orderId);
  const { events } = await readStream(tx, orderStream(orderId));
  return {
    orderId,
    status: summary.status,
    ...(summary.reason ? { reason: summary.reason } : {}),
    items: summary.items,
    total: summary.total,
    currency: summary.currency,
    history: events.map((e) => ({ type: e.type, at: e.time, source: e.source.replace(/^orderflow\//, '') })),
  };
}
