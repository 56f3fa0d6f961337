import { Type } from '@sinclair/typebox';
import { commonConfig } from '@orderflow/service-kit';

export const OrdersConfigSchema = Type.Object({
  ...commonConfig('orders', 3000),
  ORDER_PENDING_TIMEOUT_SECONDS: Type.Integer({
    minimum: 1,
    default: 900,
    description: 'a PENDING order without payment and stock results after this long is cancelled (TIMEOUT)',
  }),
  ORDER_CONFIRMED_TIMEOUT_SECONDS: Type.Integer({
    minimum: 1,
    default: 3600,
    description:
      'a CONFIRMED order whose pickup is not scheduled this long after its confirmation is cancelled (TIMEOUT): payment refunds, inventory releases, shipping cancels',
  }),
  ORDER_ADMISSION_MAX_PENDING: Type.Integer({
    minimum: 0,
    default: 5000,
    description:
      'POST /orders answers 503 with Retry-After while this many orders or more are PENDING (waiting for payment, stock and shipping): load shedding above capacity; 0 never refuses',
  }),
  ORDER_ADMISSION_RETRY_AFTER_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 2,
    description: 'the Retry-After of a POST /orders refused by ORDER_ADMISSION_MAX_PENDING',
  }),
  AUTH_JWT_SECRET: Type.String({
    minLength: 32,
    // never printed in a boot error (service-kit loadConfig)
    secret: true,
    description: 'HS256 secret for storefront bearer tokens (required, at least 32 characters)',
  }),
});
