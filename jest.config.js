/** Jest runs TypeScript through ts-jest in isolatedModules mode (transpile only, fast);
 * `npm test` type-checks the whole tree separately with `tsc --noEmit`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // tsconfig.json `paths`: the examples import the public entry points, which are lib/ here.
  moduleNameMapper: {
    '^failover-constructs$': '<rootDir>/lib/spec',
    '^failover-constructs/(spec|boot|aws|azure|guard)$': '<rootDir>/lib/$1',
  },
  testTimeout: 30000,
};
