/**
 * npm run test:unit — the pure tests (domain rules, configuration parsing): no PostgreSQL, no Temporal,
 * no global set-up. `npm test` runs these too, with everything else.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/unit'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  reporters: ['default', '<rootDir>/test/harness/summary-reporter.js'],
};
