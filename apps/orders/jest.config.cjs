// Unit specs next to the code (src/); integration specs against the real PostgreSQL and Kafka in test/.
module.exports = { ...require('../../jest.preset.cjs'), roots: ['<rootDir>/src', '<rootDir>/test'], testTimeout: 60_000 };
