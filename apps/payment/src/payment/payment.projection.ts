import { recordsetUpsert, upsertRow, type ProjectionRebuild } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import { paymentDecider, type PaymentEvent, type PaymentState } from './payment.decider';
import { type PaymentView } from './payment.entity';

const payments = recordsetUpsert<PaymentView>('payments', 'order_id', [
  { name: 'order_id', type: 'text', value: (r) => r.orderId },
  { name: 'payment_id', type: 'text', value: (r) => r.paymentId },
  { name: 'status', type: 'text', value: (r) => r.status },
  { name: 'amount', type: 'bigint', value: (r) => r.amount },
  { name: 'currency', type: 'text', value: (r) => r.currency },
  { name: 'updated_at', type: 'timestamptz', value: (r) => r.updatedAt },
]);

/** The order's payment row, from its state; in a consumer batch, one upsert for all the batch's orders. */
export async function project(tx: EntityManager, state: PaymentState, now: Date): Promise<void> {
  if (state.status === 'NONE') return;
  await upsertRow(tx, payments, state.orderId, paymentRow(state, now));
}

function paymentRow(state: Exclude<PaymentState, { status: 'NONE' }>, updatedAt: Date): PaymentView {
  switch (state.status) {
    case 'VOIDED':
      return { orderId: state.orderId, paymentId: null, status: state.status, amount: null, currency: null, updatedAt };
    case 'DECLINED':
      return { orderId: state.orderId, paymentId: null, status: state.status, amount: state.amount, currency: state.currency, updatedAt };
    case 'AUTHORIZED':
    case 'REFUNDED':
      return { orderId: state.orderId, paymentId: state.paymentId, status: state.status, amount: state.amount, currency: state.currency, updatedAt };
    default: {
      const unknown: never = state;
      throw new Error(`unknown payment state ${JSON.stringify(unknown)}`);
    }
  }
}

/** Rebuilds the payments table from the payment streams; a row is dated by its last event, as the live projection dates it by the time it decided. */
export const paymentsProjection: ProjectionRebuild = {
  table: 'payments',
  streamPrefix: 'payment-',
  project: (tx, _stream, events) =>
    project(tx, (events as PaymentEvent[]).reduce(paymentDecider.evolve, paymentDecider.initialState()), new Date(events.at(-1)!.time)),
};
