module.exports = { ...require('../../jest.preset.cjs'), roots: ['<rootDir>/src', '<rootDir>/test'], testTimeout: 60_000 };
