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
    description: 'HS256 secret for storefront bearer tokens (required, at least 32 characters); unused for verifying when AUTH_JWKS_URL is set',
  }),
  // Empty means unset: HS256 with AUTH_JWT_SECRET, and no iss / aud checks.
  AUTH_JWKS_URL: Type.String({
    pattern: '^(https?://.+)?$',
    default: '',
    description: 'verify tokens with the keys of an identity provider (its JWKS URL) instead of AUTH_JWT_SECRET; needs AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE',
  }),
  AUTH_JWT_ISSUER: Type.String({ default: '', description: 'the iss every token must carry (required with AUTH_JWKS_URL)' }),
  AUTH_JWT_AUDIENCE: Type.String({ default: '', description: 'the aud every token must carry (required with AUTH_JWKS_URL)' }),
  AUTH_ROLES_CLAIM: Type.String({
    minLength: 1,
    default: 'roles',
    description: 'the claim that lists a token’s roles (operator): a name, or a dotted path such as realm_access.roles',
  }),
  AUTH_DEV_TOKENS: Type.Boolean({
    default: false,
    description:
      'development only: POST /auth/dev-token signs a token for any customer (and the operator role) so the storefront can sign in without an identity provider; never enable in production',
  }),
  ORDER_STREAM_MAX_CLIENTS: Type.Integer({
    minimum: 1,
    default: 10_000,
    description: 'live order streams (GET /orders/:id/stream) this instance serves at once; more answer 503',
  }),
  ORDER_STREAM_BUFFER_BYTES: Type.Integer({
    minimum: 1_024,
    default: 65_536,
    description: 'bytes a live order stream may have waiting for a client that does not read; past this the client is dropped (it resumes with Last-Event-ID)',
  }),
  ORDER_STREAM_HEARTBEAT_SECONDS: Type.Integer({
    minimum: 1,
    default: 25,
    description: 'a comment line is sent on every open live stream this often, so proxies keep idle streams open',
  }),
  OPS_SERVICE_URLS: Type.String({
    pattern: '^(payment|inventory|shipping)=https?://[^,\\s]+(,(payment|inventory|shipping)=https?://[^,\\s]+)*$',
    default: 'payment=http://127.0.0.1:3001,inventory=http://127.0.0.1:3002,shipping=http://127.0.0.1:3003',
    description:
      'where the operator view (/ops) reads the health and outbox backlog of the other services: name=base URL, comma-separated (orders reads its own)',
  }),
});
