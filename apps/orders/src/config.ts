import { Type } from '@sinclair/typebox';
import { commonConfig } from '@orderflow/service-kit';

export const OrdersConfigSchema = Type.Object({
  ...commonConfig('orders', 3000),
  AUTH_JWT_SECRET: Type.String({
    minLength: 32,
    description: 'HS256 secret for storefront bearer tokens (required, at least 32 characters)',
  }),
});
