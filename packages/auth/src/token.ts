import { SignJWT, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';

/** What a verified token grants: the customer (`sub`) and its roles. */
export interface TokenClaims {
  sub: string;
  roles: string[];
}

/** May read every service's health, lag, outbox and dead letters, and redrive them. */
export const OPERATOR_ROLE = 'operator';

/**
 * The subject becomes OrderPlaced.customerId: one the contract refuses (longer than
 * its 128 characters) would strand the order until its timeout.
 */
export const MAX_SUBJECT_LENGTH = 128;

export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

export interface SignOptions {
  sub: string;
  roles?: readonly string[];
  /** Lifetime; a token always expires (one that never does cannot be revoked). */
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
  /** Seconds since the epoch; for tests that need a fixed clock. */
  now?: number;
}

const encoder = new TextEncoder();

/** An HS256 token, as the development token endpoint, `npm run token`, the demo and the tests issue them. */
export async function signToken(secret: string, options: SignOptions): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(options.roles?.length ? { roles: [...options.roles] } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 3600));
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(encoder.encode(secret));
}

/**
 * How tokens are checked: HS256 with a shared secret (the default), or the keys of
 * a real identity provider's JWKS, whose tokens must also name the expected issuer
 * and audience (a JWKS serves many applications; without those checks any of their
 * tokens would do).
 */
export type VerifierOptions = (
  | { secret: string; issuer?: string; audience?: string }
  | { jwksUrl: string; issuer: string; audience: string }
) & {
  /**
   * Where a token lists its roles: a claim name (`roles`, the default, or a namespaced
   * one such as `https://example.com/roles`) or a dotted path into the claims
   * (`realm_access.roles`, as Keycloak writes them).
   */
  rolesClaim?: string;
};

export type TokenVerifier = (token: string, nowSeconds?: number) => Promise<TokenClaims>;

export function createVerifier(options: VerifierOptions): TokenVerifier {
  const base: JWTVerifyOptions = {
    requiredClaims: ['exp', 'sub'],
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  let check: (token: string, verifyOptions: JWTVerifyOptions) => Promise<JWTPayload>;
  if ('jwksUrl' in options) {
    const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUrl));
    // Asymmetric algorithms only: a JWKS key must never be usable as an HMAC secret.
    const algorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
    check = async (token, o) => (await jwtVerify(token, keys, { ...o, algorithms })).payload;
  } else {
    const key = encoder.encode(options.secret);
    check = async (token, o) => (await jwtVerify(token, key, { ...o, algorithms: ['HS256'] })).payload;
  }
  const verified = new VerifiedTokens();
  return async (token, nowSeconds) => {
    const now = nowSeconds ?? Date.now() / 1000;
    const known = verified.get(token, now);
    if (known) return known;
    let payload: JWTPayload;
    try {
      payload = await check(token, nowSeconds === undefined ? base : { ...base, currentDate: new Date(nowSeconds * 1000) });
    } catch (error) {
      throw new InvalidTokenError(reasonOf(error));
    }
    const claims = claimsOf(payload, options.rolesClaim ?? 'roles');
    verified.add(token, claims, payload, now);
    return claims;
  };
}

/** How long a verified token is trusted without checking its signature again, at most (a JWKS key withdrawn is noticed within it). */
const VERIFIED_TOKEN_TTL_SECONDS = 60;
const MAX_VERIFIED_TOKENS = 10_000;

/**
 * Tokens verified lately, by their exact text: a customer sends the same token
 * with every request, and checking its signature costs far more than the rest of
 * a request's authentication. An entry answers only while the token's own time
 * claims still hold (`exp`, `nbf`) and for at most VERIFIED_TOKEN_TTL_SECONDS;
 * only tokens that passed every check are kept, the oldest dropped first.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { claims: TokenClaims; until: number; notBefore: number }>();

  get(token: string, now: number): TokenClaims | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (now >= entry.until || now < entry.notBefore) {
      this.entries.delete(token);
      return undefined;
    }
    return { sub: entry.claims.sub, roles: [...entry.claims.roles] };
  }

  add(token: string, claims: TokenClaims, payload: JWTPayload, now: number): void {
    if (typeof payload.exp !== 'number') return;
    if (this.entries.size >= MAX_VERIFIED_TOKENS) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, {
      claims: { sub: claims.sub, roles: [...claims.roles] },
      until: Math.min(payload.exp, now + VERIFIED_TOKEN_TTL_SECONDS),
      notBefore: typeof payload.nbf === 'number' ? payload.nbf : -Infinity,
    });
  }
}

function claimsOf(payload: JWTPayload, rolesClaim: string): TokenClaims {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new InvalidTokenError('token has no subject');
  if (payload.sub.length > MAX_SUBJECT_LENGTH) throw new InvalidTokenError(`token subject is longer than ${MAX_SUBJECT_LENGTH} characters`);
  const roles = rolesClaim in payload ? payload[rolesClaim] : rolesClaim.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], payload);
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string'))) {
    throw new InvalidTokenError('token roles must be a list of strings');
  }
  return { sub: payload.sub, roles: roles ?? [] };
}

/** A short reason for the 401, never the token itself. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing' && error.claim === 'exp') return 'token has no expiry (exp is required)';
    if (error.reason === 'missing' && error.claim === 'sub') return 'token has no subject';
    if (error.claim === 'iss') return 'token issuer is not the expected one';
    if (error.claim === 'aud') return 'token audience is not the expected one';
    return `token claim ${error.claim} is invalid`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'unsupported token algorithm';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad token signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the identity provider matches the token';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return 'the identity provider’s keys could not be read';
  if (error instanceof errors.JOSEError) return 'malformed token';
  throw error;
}
