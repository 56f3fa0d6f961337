import { Topics } from '@orderflow/contracts';
import type { ServiceDescription } from '@orderflow/service-kit';
import { PaymentConfigSchema } from './config';
import { paymentStream } from './payment/payment.decider';
import { PaymentModule } from './payment/payment.module';
import { paymentsProjection } from './payment/payment.projection';
import { paymentEntities, paymentMigrations } from './schema';

export const paymentService: ServiceDescription = {
  name: 'payment',
  configSchema: PaymentConfigSchema,
  migrations: paymentMigrations,
  entities: paymentEntities,
  produces: [Topics.payments],
  consumes: [Topics.orders],
  streamsOf: (event) => [paymentStream(event.subject)],
  projections: [paymentsProjection],
  feature: PaymentModule,
};
