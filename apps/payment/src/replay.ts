import { replayCommand } from '@orderflow/service-kit';
import { PaymentConfigSchema } from './config';
import { paymentDecider, type PaymentEvent } from './payment/payment.decider';
import { PaymentView } from './payment/payment.entity';
import { project } from './payment/payment.handler';
import { PaymentsReadModel1763700000100 } from './payment/payments.migration';

replayCommand({
  name: 'payment',
  configSchema: PaymentConfigSchema,
  migrations: [PaymentsReadModel1763700000100],
  entities: [PaymentView],
  projections: [
    {
      table: 'payments',
      streamPrefix: 'payment-',
      project: (tx, _stream, events) =>
        project(tx, (events as PaymentEvent[]).reduce(paymentDecider.evolve, paymentDecider.initialState()), new Date(events.at(-1)!.time)),
    },
  ],
});
