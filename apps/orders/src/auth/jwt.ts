import { createHmac, timingSafeEqual } from 'node:crypto';
import { Id } from '@orderflow/contracts';

export interface TokenClaims {
  sub: string;
  exp: number;
  iat?: number;
}

/** The subject becomes OrderPlaced.customerId: one the contract refuses would strand the order until its timeout. */
const MAX_SUBJECT_LENGTH = Id.maxLength!;

export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

/**
 * Verifies an HS256 JWT: signature (constant time), algorithm, a required expiry
 * (a token that never expires cannot be revoked), and a `sub` the contract accepts
 * as a customer id (1 to 128 characters).
 */
export function verifyToken(token: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new InvalidTokenError('malformed token');
  const [header, payload, signature] = parts as [string, string, string];
  let alg: unknown;
  let claims: Partial<TokenClaims>;
  try {
    alg = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown }).alg;
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<TokenClaims>;
  } catch {
    throw new InvalidTokenError('malformed token');
  }
  if (alg !== 'HS256') throw new InvalidTokenError('unsupported token algorithm');
  // Compare the canonical encodings: base64url decoding is lenient, and a token
  // must have exactly one valid spelling.
  const expected = Buffer.from(createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url'));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidTokenError('bad token signature');
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new InvalidTokenError('malformed token claims');
  if (claims.exp === undefined) throw new InvalidTokenError('token has no expiry (exp is required)');
  if (typeof claims.exp !== 'number') throw new InvalidTokenError('token exp must be a number');
  if (claims.exp <= nowSeconds) throw new InvalidTokenError('token expired');
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw new InvalidTokenError('token has no subject');
  if (claims.sub.length > MAX_SUBJECT_LENGTH) throw new InvalidTokenError(`token subject is longer than ${MAX_SUBJECT_LENGTH} characters`);
  return claims as TokenClaims;
}
