import { toEnvelope, type AnyEvent } from '@orderflow/contracts';
import { decideAndAppend } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import { isOwnEvent, orderDecider, orderStream, type OrderCommand, type OrderState } from './order.decider';
import { observeLifetime } from './order-lifetime.metric';
import { projectSummary } from './order-summary.projection';

const SOURCE = 'orderflow/orders';

/** Load → decide → append one command on the order's stream, and update its summary: in the caller's transaction. */
export async function executeOrderCommand(
  tx: EntityManager,
  orderId: string,
  command: OrderCommand,
  now: Date,
  causedBy?: AnyEvent,
  /** The span of the request that issued the command, when no event caused it. */
  traceparent?: string,
): Promise<{ state: OrderState; appended: AnyEvent[] }> {
  const result = await decideAndAppend(
    tx,
    orderStream(orderId),
    orderDecider,
    command,
    // A recorded outcome keeps the envelope it came with: the history shows who emitted it.
    (e) =>
      causedBy && !isOwnEvent(e) ? causedBy : toEnvelope(e, { source: SOURCE, time: now, ...(causedBy ? { causedBy } : {}), ...(traceparent ? { traceparent } : {}) }),
    isOwnEvent,
  );
  await projectSummary(tx, result.state, now);
  observeLifetime(result.state, result.appended, now);
  return result;
}
