import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK } from 'jose';
import { InvalidTokenError, createVerifier, signToken } from './token';

const SECRET = 'unit-test-secret-with-enough-entropy';
const NOW = 1_750_000_000; // seconds since the epoch, fixed so expiry is deterministic
const verify = createVerifier({ secret: SECRET });

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Builds a token by hand, so tests can sign any header and payload, valid or not. */
function handMade(header: unknown, payload: unknown, secret = SECRET): string {
  const signingInput = `${encode(header)}.${encode(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

async function rejection(token: string, verifier = verify): Promise<InvalidTokenError> {
  const error: unknown = await verifier(token, NOW).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return error as InvalidTokenError;
}

describe('HS256 tokens', () => {
  it('verifies a token it signed and returns its subject and roles', async () => {
    const token = await signToken(SECRET, { sub: 'customer-1', roles: ['operator'], now: NOW });
    await expect(verify(token, NOW)).resolves.toEqual({ sub: 'customer-1', roles: ['operator'] });
  });

  it('gives a token without roles no roles', async () => {
    await expect(verify(await signToken(SECRET, { sub: 'customer-1', now: NOW }), NOW)).resolves.toEqual({ sub: 'customer-1', roles: [] });
  });

  it('accepts a token written by hand as a standard HS256 JWT (what other tools send)', async () => {
    await expect(verify(handMade({ alg: 'HS256', typ: 'JWT' }, { sub: 'c', exp: NOW + 60 }), NOW)).resolves.toEqual({ sub: 'c', roles: [] });
  });

  it('writes a standard HS256 JWT header and an expiry', async () => {
    const [header, payload] = (await signToken(SECRET, { sub: 'c', ttlSeconds: 60, now: NOW })).split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString('utf8'))).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'))).toEqual({ sub: 'c', iat: NOW, exp: NOW + 60 });
  });

  it('rejects a token whose payload was changed after signing', async () => {
    const [header, , signature] = (await signToken(SECRET, { sub: 'customer-1', now: NOW })).split('.');
    const tampered = `${header}.${encode({ sub: 'customer-2', exp: NOW + 60 })}.${signature}`;
    expect((await rejection(tampered)).message).toBe('bad token signature');
  });

  it('rejects a token signed with another secret', async () => {
    const token = await signToken('someone-elses-secret-of-enough-length', { sub: 'customer-1', now: NOW });
    expect((await rejection(token)).message).toBe('bad token signature');
  });

  it('rejects an expired token, and one at the second it expires', async () => {
    expect((await rejection(handMade({ alg: 'HS256' }, { sub: 'c', exp: NOW - 1 }))).message).toBe('token expired');
    expect((await rejection(handMade({ alg: 'HS256' }, { sub: 'c', exp: NOW }))).message).toBe('token expired');
  });

  it('answers a token it verified before again, and still refuses it once it expired or before its nbf', async () => {
    const verifier = createVerifier({ secret: SECRET });
    const token = handMade({ alg: 'HS256' }, { sub: 'c', roles: ['operator'], nbf: NOW - 10, exp: NOW + 30 });
    const first = await verifier(token, NOW);
    first.roles.push('changed by the caller');
    await expect(verifier(token, NOW + 29)).resolves.toEqual({ sub: 'c', roles: ['operator'] });
    await expect(verifier(token, NOW + 30)).rejects.toThrow('token expired');
    await expect(verifier(token, NOW - 11)).rejects.toThrow(/nbf/);
  });

  it('rejects a correctly signed token without an expiry', async () => {
    expect((await rejection(handMade({ alg: 'HS256' }, { sub: 'customer-1' }))).message).toBe('token has no expiry (exp is required)');
  });

  it('rejects a correctly signed token whose exp is not a number', async () => {
    expect((await rejection(handMade({ alg: 'HS256' }, { sub: 'c', exp: 'never' }))).message).toMatch(/exp/);
  });

  it('rejects a signed token without a subject, or with an empty one', async () => {
    expect((await rejection(handMade({ alg: 'HS256' }, { exp: NOW + 60 }))).message).toBe('token has no subject');
    expect((await rejection(handMade({ alg: 'HS256' }, { sub: '', exp: NOW + 60 }))).message).toBe('token has no subject');
  });

  it('accepts a subject of 128 characters and rejects a longer one, saying so', async () => {
    await expect(verify(handMade({ alg: 'HS256' }, { sub: 'c'.repeat(128), exp: NOW + 60 }), NOW)).resolves.toMatchObject({ sub: 'c'.repeat(128) });
    expect((await rejection(handMade({ alg: 'HS256' }, { sub: 'c'.repeat(129), exp: NOW + 60 }))).message).toBe(
      'token subject is longer than 128 characters',
    );
  });

  it('reads the roles where an identity provider puts them', async () => {
    const keycloak = createVerifier({ secret: SECRET, rolesClaim: 'realm_access.roles' });
    await expect(keycloak(handMade({ alg: 'HS256' }, { sub: 'c', exp: NOW + 60, realm_access: { roles: ['operator'] } }), NOW)).resolves.toEqual({
      sub: 'c',
      roles: ['operator'],
    });
    await expect(keycloak(handMade({ alg: 'HS256' }, { sub: 'c', exp: NOW + 60, roles: ['operator'] }), NOW)).resolves.toEqual({ sub: 'c', roles: [] });
    const namespaced = createVerifier({ secret: SECRET, rolesClaim: 'https://orderflow.example/roles' });
    await expect(namespaced(handMade({ alg: 'HS256' }, { sub: 'c', exp: NOW + 60, 'https://orderflow.example/roles': ['operator'] }), NOW)).resolves.toEqual({
      sub: 'c',
      roles: ['operator'],
    });
  });

  it('rejects roles that are not a list of strings', async () => {
    expect((await rejection(handMade({ alg: 'HS256' }, { sub: 'c', exp: NOW + 60, roles: 'operator' }))).message).toBe(
      'token roles must be a list of strings',
    );
  });

  it('rejects alg none, signed or not, and any other algorithm', async () => {
    expect((await rejection(`${encode({ alg: 'none' })}.${encode({ sub: 'c', exp: NOW + 60 })}.`)).message).toBe('unsupported token algorithm');
    expect((await rejection(handMade({ alg: 'none' }, { sub: 'c', exp: NOW + 60 }))).message).toBe('unsupported token algorithm');
    expect((await rejection(handMade({ alg: 'HS512' }, { sub: 'c', exp: NOW + 60 }))).message).toBe('unsupported token algorithm');
  });

  it('checks issuer and audience when they are configured', async () => {
    const strict = createVerifier({ secret: SECRET, issuer: 'https://id.example', audience: 'orderflow' });
    const right = await signToken(SECRET, { sub: 'c', issuer: 'https://id.example', audience: 'orderflow', now: NOW });
    await expect(strict(right, NOW)).resolves.toEqual({ sub: 'c', roles: [] });
    const otherIssuer = await signToken(SECRET, { sub: 'c', issuer: 'https://evil.example', audience: 'orderflow', now: NOW });
    expect((await rejection(otherIssuer, strict)).message).toBe('token issuer is not the expected one');
    const otherAudience = await signToken(SECRET, { sub: 'c', issuer: 'https://id.example', audience: 'another-app', now: NOW });
    expect((await rejection(otherAudience, strict)).message).toBe('token audience is not the expected one');
  });

  it.each([
    ['an empty string', ''],
    ['one segment', 'abc'],
    ['two segments', 'abc.def'],
    ['four segments', 'a.b.c.d'],
    ['segments that are not base64url JSON', 'not-json.not-json.signature'],
    ['a header that is JSON but a payload that is not', `${encode({ alg: 'HS256' })}.%%%.sig`],
  ])('rejects a malformed token: %s', async (_, token) => {
    expect((await rejection(token)).message).toMatch(/malformed token|bad token signature/);
  });
});

describe('tokens of an identity provider (JWKS)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let server: Server;
  let jwksUrl: string;

  beforeAll(async () => {
    const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
    server = createServer((_, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const issued = (claims: { iss: string; aud: string }) =>
    new SignJWT({ roles: ['operator'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'key-1' })
      .setSubject('idp-user-7')
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 300)
      .sign(privateKey);

  it('accepts a token signed by a key of the JWKS with the expected issuer and audience', async () => {
    const verifier = createVerifier({ jwksUrl, issuer: 'https://id.example', audience: 'orderflow' });
    await expect(verifier(await issued({ iss: 'https://id.example', aud: 'orderflow' }), NOW)).resolves.toEqual({ sub: 'idp-user-7', roles: ['operator'] });
  });

  it('refuses a token of the same provider meant for another application', async () => {
    const verifier = createVerifier({ jwksUrl, issuer: 'https://id.example', audience: 'orderflow' });
    expect((await rejection(await issued({ iss: 'https://id.example', aud: 'another-app' }), verifier)).message).toBe(
      'token audience is not the expected one',
    );
  });

  it('refuses an HS256 token, so no one can sign with a public key as an HMAC secret', async () => {
    const verifier = createVerifier({ jwksUrl, issuer: 'https://id.example', audience: 'orderflow' });
    const hmac = await signToken(SECRET, { sub: 'c', issuer: 'https://id.example', audience: 'orderflow', now: NOW });
    expect((await rejection(hmac, verifier)).message).toBe('unsupported token algorithm');
  });
});
