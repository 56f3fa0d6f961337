import { createVerifier, type TokenVerifier } from '@orderflow/auth';
import { ConfigError } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import type { OrdersConfigSchema } from '../config';

export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');

type AuthConfig = Pick<
  Static<typeof OrdersConfigSchema>,
  'AUTH_JWT_SECRET' | 'AUTH_JWKS_URL' | 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE' | 'AUTH_ROLES_CLAIM' | 'AUTH_DEV_TOKENS'
>;

/**
 * The rules of the token variables the schema cannot state: a JWKS without issuer
 * and audience, or development tokens next to a real provider, are refused. Checked
 * at boot with the rest of the configuration (the service's `checkConfig`), so the
 * process stops with the usual message naming the variables.
 */
export function checkAuthConfig(config: AuthConfig): void {
  if (!config.AUTH_JWKS_URL) return;
  const missing = [!config.AUTH_JWT_ISSUER && 'AUTH_JWT_ISSUER', !config.AUTH_JWT_AUDIENCE && 'AUTH_JWT_AUDIENCE'].filter(Boolean);
  if (missing.length) throw new ConfigError(`invalid configuration:\n  ${missing.join(', ')}: required when AUTH_JWKS_URL is set`);
  if (config.AUTH_DEV_TOKENS) throw new ConfigError('invalid configuration:\n  AUTH_DEV_TOKENS: development tokens cannot be enabled with AUTH_JWKS_URL');
}

/** HS256 with AUTH_JWT_SECRET, or an identity provider's JWKS (with its issuer and audience). */
export function tokenVerifierFrom(config: AuthConfig): TokenVerifier {
  checkAuthConfig(config);
  const { AUTH_JWKS_URL: jwksUrl, AUTH_JWT_ISSUER: issuer, AUTH_JWT_AUDIENCE: audience, AUTH_ROLES_CLAIM: rolesClaim } = config;
  if (!jwksUrl) {
    return createVerifier({ secret: config.AUTH_JWT_SECRET, rolesClaim, ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) });
  }
  return createVerifier({ jwksUrl, issuer, audience, rolesClaim });
}
