import type { AnyEvent, EventEnvelope } from '@orderflow/contracts';
import type { EntityManager } from 'typeorm';
import { executeOrderCommand } from './execute-order-command';
import type { OrderOutcomeEvent } from './order.decider';

/** The saga's entry point: record a result from another service and react to it. */
export async function recordOutcome(
  tx: EntityManager,
  event: EventEnvelope & OrderOutcomeEvent,
  now: Date = new Date(),
): Promise<AnyEvent[]> {
  const outcome = { type: event.type, data: event.data } as OrderOutcomeEvent;
  const { appended } = await executeOrderCommand(
    tx,
    outcome.data.orderId,
    { type: 'RecordOutcome', outcome, at: now },
    now,
    event,
  );
  return appended;
}
