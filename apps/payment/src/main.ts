import { Topics } from '@orderflow/contracts';
import { main } from '@orderflow/service-kit';
import { PaymentConfigSchema } from './config';
import { paymentStream } from './payment/payment.decider';
import { PaymentModule } from './payment/payment.module';
import { paymentEntities, paymentMigrations } from './schema';

main({
  name: 'payment',
  configSchema: PaymentConfigSchema,
  migrations: paymentMigrations,
  entities: paymentEntities,
  consumes: [Topics.orders],
  streamsOf: (event) => [paymentStream(event.subject)],
  feature: PaymentModule,
});
