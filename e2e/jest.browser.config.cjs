// The browser suite (`npm run test:browser -w @orderflow/e2e`, a phase of scripts/test.sh):
// the storefront and the operator view driven in Debian's Chromium with Playwright,
// against the four services as processes on the real PostgreSQL and Kafka.
module.exports = {
  ...require('../jest.preset.cjs'),
  roots: ['<rootDir>/browser'],
  testMatch: ['**/*.browser.spec.ts'],
  testTimeout: 120_000,
  maxWorkers: 1,
};
