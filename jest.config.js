/** Jest runs TypeScript through ts-jest in isolatedModules mode (transpile only, fast);
 * `npm test` type-checks the whole tree separately with `tsc --noEmit`.
 *
 * Four tiers, one jest project each, decided by what a test file uses (test/harness/tiers.js), never by
 * a hand-kept list: `unit` runs inside the jest process (no program started: enforced by
 * test/harness/unit-setup.ts), `process` starts programs (databases, HAProxy, shells, the guard build,
 * wine), `booted-node` boots systemd nodes (test/nodes), `consumer` installs the packed package
 * (test/consumer). `npm run test:quick` is the unit tier; `npm test` runs it first, then the rest. */
const { testTiers } = require('./test/harness/tiers');

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // the guard build cache of the tests, never the user's
  setupFiles: ['<rootDir>/test/harness/guard-cache-env.ts'],
  // tsconfig.json `paths`: the examples import the public entry points, which are lib/ here.
  moduleNameMapper: {
    '^failover-constructs$': '<rootDir>/lib/spec',
    '^failover-constructs/(spec|boot|aws|azure|guard)$': '<rootDir>/lib/$1',
  },
};

const tiers = testTiers(__dirname);

module.exports = {
  testTimeout: 30000,
  projects: Object.entries(tiers).map(([tier, files]) => ({
    ...shared,
    displayName: tier,
    rootDir: __dirname,
    roots: ['<rootDir>/test'],
    // Exact paths: a file belongs to exactly one tier. An empty tier matches nothing.
    testMatch: files.length ? files.map((f) => `<rootDir>/${f}`) : ['<rootDir>/test/no-test-in-this-tier'],
    ...(tier === 'unit' ? { setupFilesAfterEnv: ['<rootDir>/test/harness/unit-setup.ts'] } : {}),
  })),
};
