import { Type } from '@sinclair/typebox';
import { commonConfig } from '@orderflow/service-kit';

export const OrdersConfigSchema = Type.Object({
  ...commonConfig('orders', 3000),
  ORDER_PENDING_TIMEOUT_SECONDS: Type.Integer({
    minimum: 1,
    default: 900,
    description: 'a PENDING order without payment and stock results after this long is cancelled (TIMEOUT)',
  }),
  AUTH_JWT_SECRET: Type.String({
    minLength: 32,
    description: 'HS256 secret for storefront bearer tokens (required, at least 32 characters)',
  }),
});
