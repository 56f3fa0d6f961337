import { Topics } from '@orderflow/contracts';
import { main } from '@orderflow/service-kit';
import { PaymentConfigSchema } from './config';
import { PaymentModule } from './payment/payment.module';
import { paymentEntities, paymentMigrations } from './schema';

main({
  name: 'payment',
  configSchema: PaymentConfigSchema,
  migrations: paymentMigrations,
  entities: paymentEntities,
  consumes: [Topics.orders],
  feature: PaymentModule,
});
