// Deployment files, validated with real tools and no Docker engine or cluster:
// see test/global-setup.cjs for what is installed and from where.
module.exports = {
  ...require('../../jest.preset.cjs'),
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  globalSetup: '<rootDir>/test/global-setup.cjs',
  testTimeout: 120_000,
};
