import { readStream } from '@orderflow/eventstore';
import { continueOrderTrace, tracingEnabled } from '@orderflow/service-kit';
import type { EntityManager } from 'typeorm';
import { orderStream } from './order.decider';

/**
 * The traceparent for the events of a command on an existing order that no event
 * caused (a customer's cancel, a deadline): a span in the order's trace, so its
 * compensations show there. Reads the order's first event only with tracing on.
 */
export async function orderTraceFor(tx: EntityManager, orderId: string, command: string): Promise<string | undefined> {
  if (!tracingEnabled()) return undefined;
  const placed = (await readStream(tx, orderStream(orderId))).events[0];
  return continueOrderTrace(command, placed?.traceparent, orderId);
}
