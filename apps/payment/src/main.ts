import { Topics } from '@orderflow/contracts';
import { main } from '@orderflow/service-kit';
import { PaymentConfigSchema } from './config';
import { PaymentView } from './payment/payment.entity';
import { PaymentModule } from './payment/payment.module';
import { PaymentsReadModel1763700000100 } from './payment/payments.migration';

main({
  name: 'payment',
  configSchema: PaymentConfigSchema,
  migrations: [PaymentsReadModel1763700000100],
  entities: [PaymentView],
  consumes: [Topics.orders],
  feature: PaymentModule,
});
