import { randomUUID } from 'node:crypto';
import { toEnvelope, type AnyEvent, type EventEnvelope } from '@orderflow/contracts';
import { decideAndAppend } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import { paymentDecider, paymentStream, type PaymentCommand, type PaymentState } from './payment.decider';
import { PaymentView } from './payment.entity';

const SOURCE = 'orderflow/payment';

/** Authorizes on OrderPlaced, refunds on OrderCancelled; effects and read model in `tx`. */
export async function reactToOrderEvent(
  tx: EntityManager,
  event: EventEnvelope<'OrderPlaced'> | EventEnvelope<'OrderCancelled'>,
  limit: number,
  now: Date = new Date(),
): Promise<AnyEvent[]> {
  const command: PaymentCommand =
    event.type === 'OrderPlaced'
      ? {
          type: 'AuthorizePayment',
          orderId: event.data.orderId,
          paymentId: randomUUID(),
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

export async function project(tx: EntityManager, state: PaymentState, now: Date): Promise<void> {
  if (state.status === 'NONE') return;
  await tx.getRepository(PaymentView).upsert(
    {
      orderId: state.orderId,
      paymentId: state.status === 'DECLINED' ? null : state.paymentId,
      status: state.status,
      amount: state.amount,
      currency: state.currency,
      updatedAt: now,
    },
    ['orderId'],
  );
}
