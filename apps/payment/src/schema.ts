import { PaymentView } from './payment/payment.entity';
import { PaymentsReadModel1763700000100, PaymentsVoided1763700000200 } from './payment/payments.migration';

/** Own migrations and entities, shared by the service and the replay command (the event store's are added by the service kit). */
export const paymentMigrations = [PaymentsReadModel1763700000100, PaymentsVoided1763700000200];
export const paymentEntities = [PaymentView];
