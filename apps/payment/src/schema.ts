import { PaymentView } from './payment/payment.entity';
import { PaymentsReadModel1763700000100, PaymentsVoided1763700000200 } from './payment/payments.migration';

/**
 * Own migrations and entities, part of `paymentService` (the event store's are added by
 * the service kit). Kept apart from `service.ts` so that integration tests can open a
 * database with them: jest cannot load Nest (ESM-only), which `service.ts` brings in
 * through the feature module and the config schema.
 */
export const paymentMigrations = [PaymentsReadModel1763700000100, PaymentsVoided1763700000200];
export const paymentEntities = [PaymentView];
