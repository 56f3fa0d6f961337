import { replayCommand } from '@orderflow/service-kit';
import { PaymentConfigSchema } from './config';
import { paymentsProjection } from './payment/payment.projection';
import { paymentEntities, paymentMigrations } from './schema';

replayCommand({
  name: 'payment',
  configSchema: PaymentConfigSchema,
  migrations: paymentMigrations,
  entities: paymentEntities,
  projections: [paymentsProjection],
});
