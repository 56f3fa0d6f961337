module.exports = {
  ...require('../jest.preset.cjs'),
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.e2e.spec.ts'],
  testTimeout: 180_000,
  // Fault tests stop and restart the shared broker: one file at a time.
  maxWorkers: 1,
};
