// The chaos suite (scripts/chaos.sh, `npm run chaos`): faults under load against the
// suite's own PostgreSQL cluster and broker, never the shared ones.
module.exports = {
  ...require('../jest.preset.cjs'),
  roots: ['<rootDir>/chaos'],
  testMatch: ['**/*.chaos.spec.ts'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
