#!/usr/bin/env node
// Prints a development bearer token for the storefront API:
//   npm run token -- [customer-id] [--ttl 3600] [--operator]
// Signs with AUTH_JWT_SECRET, or with the development secret the demo keeps in
// .cache/dev-jwt-secret (created on first use, never committed). The signer is the
// one the orders service and the tests use (@orderflow/auth, built by `npm run build`).
'use strict';
const { randomBytes } = require('node:crypto');
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

module.exports = { devSecret, SECRET_FILE };

if (require.main === module) {
  let auth;
  try {
    // From the repository, or from the working directory (the orders image runs this
    // script mounted at /scripts, next to nothing; its packages are in /app).
    auth = require(require.resolve('@orderflow/auth', { paths: [__dirname, process.cwd()] }));
  } catch {
    process.stderr.write('@orderflow/auth is not built: run `npm run build` first\n');
    process.exit(1);
  }
  const args = process.argv.slice(2);
  const operatorIndex = args.indexOf('--operator');
  const roles = operatorIndex >= 0 ? (args.splice(operatorIndex, 1), [auth.OPERATOR_ROLE]) : [];
  const ttlIndex = args.indexOf('--ttl');
  const ttl = ttlIndex >= 0 ? Number(args.splice(ttlIndex, 2)[1]) : 24 * 3600;
  if (!Number.isInteger(ttl) || ttl <= 0) {
    process.stderr.write('--ttl must be a positive number of seconds\n');
    process.exit(2);
  }
  const sub = args[0] || 'customer-1';
  auth.signToken(devSecret(), { sub, roles, ttlSeconds: ttl }).then((token) => process.stdout.write(`${token}\n`));
}
