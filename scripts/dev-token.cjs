#!/usr/bin/env node
// Prints a development bearer token for the storefront API:
//   npm run token -- [customer-id] [--ttl 3600]
// Signs with AUTH_JWT_SECRET, or with the development secret the demo keeps in
// .cache/dev-jwt-secret (created on first use, never committed).
'use strict';
const { createHmac, randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, dirname } = require('node:path');

const SECRET_FILE = join(process.env.ORDERFLOW_CACHE || join(__dirname, '..', '.cache'), 'dev-jwt-secret');

function devSecret() {
  if (process.env.AUTH_JWT_SECRET) return process.env.AUTH_JWT_SECRET;
  if (!existsSync(SECRET_FILE)) {
    mkdirSync(dirname(SECRET_FILE), { recursive: true });
    writeFileSync(SECRET_FILE, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return readFileSync(SECRET_FILE, 'utf8').trim();
}

function sign(claims, secret) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

module.exports = { devSecret, sign, SECRET_FILE };

if (require.main === module) {
  const args = process.argv.slice(2);
  const ttlIndex = args.indexOf('--ttl');
  const ttl = ttlIndex >= 0 ? Number(args.splice(ttlIndex, 2)[1]) : 24 * 3600;
  if (!Number.isInteger(ttl) || ttl <= 0) {
    process.stderr.write('--ttl must be a positive number of seconds\n');
    process.exit(2);
  }
  const sub = args[0] || 'customer-1';
  const now = Math.floor(Date.now() / 1000);
  process.stdout.write(`${sign({ sub, iat: now, exp: now + ttl }, devSecret())}\n`);
}
