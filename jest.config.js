/** @type {import('jest').Config} */
module.exports = {
  // Node, collecting each file's garbage after it (test/harness/environment.ts).
  testEnvironment: '<rootDir>/test/harness/environment.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/harness/summary-reporter.js'],
  testTimeout: 60_000,
  // Two cores: each worker runs a Temporal worker; more than two only adds contention.
  maxWorkers: 2,
  forceExit: false,
  detectOpenHandles: false,
};
