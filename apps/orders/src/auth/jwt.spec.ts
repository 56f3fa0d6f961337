import { createHmac } from 'node:crypto';
import { InvalidTokenError, verifyToken, type TokenClaims } from './jwt';

const SECRET = 'unit-test-secret-with-enough-entropy';
const NOW = 1_750_000_000; // seconds since the epoch, fixed so expiry is deterministic

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Builds a token by hand, so tests can sign any header and payload, valid or not. */
function handMade(header: unknown, payload: unknown, secret = SECRET): string {
  const signingInput = `${encode(header)}.${encode(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** A standard HS256 JWT, as scripts/dev-token.cjs and the testkit issue them. */
const signToken = (claims: Partial<TokenClaims>, secret: string): string => handMade({ alg: 'HS256', typ: 'JWT' }, claims, secret);

const IN_A_MINUTE = NOW + 60;

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the token to be rejected');
}

function rejection(token: string): unknown {
  return thrownBy(() => verifyToken(token, SECRET, NOW));
}

describe('HS256 tokens', () => {
  it('accepts only the canonical spelling of a signature', () => {
    const token = signToken({ sub: 'customer-1', exp: IN_A_MINUTE }, SECRET);
    expect(rejection(`${token}!!`)).toMatchObject({ name: 'InvalidTokenError' });
    expect(rejection(`${token}=`)).toMatchObject({ name: 'InvalidTokenError' });
  });

  it('rejects a correctly signed token whose claims are not an object', () => {
    expect(rejection(handMade({ alg: 'HS256', typ: 'JWT' }, null))).toMatchObject({ name: 'InvalidTokenError' });
  });

  it('rejects a correctly signed token whose exp is not a number', () => {
    expect(rejection(handMade({ alg: 'HS256', typ: 'JWT' }, { sub: 'c', exp: 'never' }))).toMatchObject({ name: 'InvalidTokenError' });
  });

  it('verifies a token it signed and returns its claims', () => {
    const claims = { sub: 'customer-1', iat: NOW, exp: NOW + 3_600 };
    expect(verifyToken(signToken(claims, SECRET), SECRET, NOW)).toEqual(claims);
  });

  it('rejects a correctly signed token without an expiry', () => {
    const error = rejection(signToken({ sub: 'customer-1' }, SECRET));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'token has no expiry (exp is required)' });
  });

  it('accepts a subject of the 128 characters a customer id may have', () => {
    const sub = 'c'.repeat(128);
    expect(verifyToken(signToken({ sub, exp: IN_A_MINUTE }, SECRET), SECRET, NOW)).toEqual({ sub, exp: IN_A_MINUTE });
  });

  it('rejects a subject longer than the 128 characters a customer id may have, saying so', () => {
    const error = rejection(signToken({ sub: 'c'.repeat(129), exp: IN_A_MINUTE }, SECRET));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'token subject is longer than 128 characters' });
  });

  it('writes a standard HS256 JWT header', () => {
    const [header] = signToken({ sub: 'customer-1', exp: IN_A_MINUTE }, SECRET).split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8'))).toEqual({ alg: 'HS256', typ: 'JWT' });
  });

  it('rejects a token whose payload was changed after signing', () => {
    const [header, , signature] = signToken({ sub: 'customer-1', exp: NOW + 60 }, SECRET).split('.');
    const tampered = `${header}.${encode({ sub: 'customer-2', exp: NOW + 60 })}.${signature}`;
    const error = rejection(tampered);
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'bad token signature' });
  });

  it('rejects a token whose signature was changed', () => {
    const token = signToken({ sub: 'customer-1', exp: IN_A_MINUTE }, SECRET);
    const [header, payload, signature = ''] = token.split('.');
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    const error = rejection(`${header}.${payload}.${flipped}`);
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'bad token signature' });
  });

  it('rejects a token signed with another secret', () => {
    const error = rejection(signToken({ sub: 'customer-1', exp: IN_A_MINUTE }, 'someone-elses-secret'));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'bad token signature' });
  });

  it('rejects a token with an empty signature', () => {
    const [header, payload] = signToken({ sub: 'customer-1', exp: IN_A_MINUTE }, SECRET).split('.');
    const error = rejection(`${header}.${payload}.`);
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'bad token signature' });
  });

  it('rejects an expired token', () => {
    const error = rejection(signToken({ sub: 'customer-1', exp: NOW - 1 }, SECRET));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'token expired' });
  });

  it('rejects a token at the second it expires', () => {
    const error = rejection(signToken({ sub: 'customer-1', exp: NOW }, SECRET));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'token expired' });
  });

  it('accepts a token one second before it expires', () => {
    expect(verifyToken(signToken({ sub: 'customer-1', exp: NOW + 1 }, SECRET), SECRET, NOW)).toEqual({
      sub: 'customer-1',
      exp: NOW + 1,
    });
  });

  it('rejects an unsigned token with alg none', () => {
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'customer-1' })}.`;
    const error = rejection(unsigned);
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'unsupported token algorithm' });
  });

  it('rejects alg none even when the token carries a valid HMAC', () => {
    const error = rejection(handMade({ alg: 'none', typ: 'JWT' }, { sub: 'customer-1' }));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'unsupported token algorithm' });
  });

  it('rejects a header that names another algorithm', () => {
    const error = rejection(handMade({ alg: 'HS512', typ: 'JWT' }, { sub: 'customer-1' }));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'unsupported token algorithm' });
  });

  it('rejects a signed token without a subject', () => {
    const error = rejection(handMade({ alg: 'HS256', typ: 'JWT' }, { exp: NOW + 60 }));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'token has no subject' });
  });

  it('rejects a signed token with an empty subject', () => {
    const error = rejection(signToken({ sub: '', exp: IN_A_MINUTE }, SECRET));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'token has no subject' });
  });

  it('rejects a signed token whose subject is not a string', () => {
    const error = rejection(handMade({ alg: 'HS256', typ: 'JWT' }, { sub: 42, exp: IN_A_MINUTE }));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'token has no subject' });
  });

  it.each([
    ['an empty string', ''],
    ['one segment', 'abc'],
    ['two segments', 'abc.def'],
    ['four segments', 'a.b.c.d'],
    ['segments that are not base64url JSON', 'not-json.not-json.signature'],
    ['a header that is JSON but a payload that is not', `${encode({ alg: 'HS256' })}.%%%.sig`],
  ])('rejects a malformed token: %s', (_, token) => {
    const error = rejection(token);
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ message: 'malformed token' });
  });
});
