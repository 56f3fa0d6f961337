import { Type } from '@sinclair/typebox';
import { commonConfig } from '@orderflow/service-kit';

export const PaymentConfigSchema = Type.Object({
  ...commonConfig('payment', 3001),
  PAYMENT_LIMIT_MINOR: Type.Integer({
    minimum: 0,
    default: 1_000_000,
    description: 'orders whose total (minor units) exceeds this are declined',
  }),
});
