// Shared jest settings: ts-jest on CommonJS output. Nest 12 is ESM-only, so jest
// suites never load Nest: domain and package code is Nest-free, and the apps are
// exercised end-to-end as real processes.
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    '/node_modules/jose/.+\\.js$': require.resolve('./scripts/jest-esm-to-cjs.cjs'),
  },
  // jose is ES modules only: transformed (above) rather than ignored like the rest of node_modules.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  reporters: ['default', require.resolve('./scripts/jest-tally-reporter.cjs')],
};
