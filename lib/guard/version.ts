/**
 * The guard's version: a constant, so the bundle and the single executable never read
 * package.json at run time. test/guard/version.test.ts keeps it equal to package.json's.
 */
export const GUARD_VERSION = '0.1.0';
