/**
 * Every jest project starts with FAILOVER_CONSTRUCTS_CACHE on the tests' guard cache: the guard
 * assets compress the binary they are given into the build cache, and tests never write into
 * the user's. A test that sets the variable itself still can.
 */
import { TEST_GUARD_CACHE } from './guard-cache';

process.env.FAILOVER_CONSTRUCTS_CACHE ||= TEST_GUARD_CACHE;
