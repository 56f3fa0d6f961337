import { toEnvelope, type AnyEvent, type EventEnvelope } from '@orderflow/contracts';
import { decideAndAppend } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import { paymentDecider, paymentStream, type PaymentCommand } from './payment.decider';
import { project } from './payment.projection';
import { paymentIdFor } from './payment-id';

const SOURCE = 'orderflow/payment';

/**
 * Authorizes on OrderPlaced, refunds (or voids) on OrderCancelled; effects and read
 * model in `tx`. Time comes from the caller and the payment id from the causing
 * event, so the same inputs always decide the same events.
 */
export async function reactToOrderEvent(
  tx: EntityManager,
  event: EventEnvelope<'OrderPlaced'> | EventEnvelope<'OrderCancelled'>,
  limit: number,
  now: Date,
): Promise<AnyEvent[]> {
  const command: PaymentCommand =
    event.type === 'OrderPlaced'
      ? {
          type: 'AuthorizePayment',
          orderId: event.data.orderId,
          paymentId: paymentIdFor(event.id),
          amount: event.data.total,
          currency: event.data.currency,
          token: event.data.payment.token,
          limit,
          at: now,
        }
      : { type: 'RefundPayment', orderId: event.data.orderId, at: now };
  const { state, appended } = await decideAndAppend(tx, paymentStream(command.orderId), paymentDecider, command, (e) =>
    toEnvelope(e, { source: SOURCE, time: now, causedBy: event }),
  );
  if (appended.length > 0) await project(tx, state, now);
  return appended;
}
