import { join } from 'path';

/**
 * The guard build cache tests share (runtimes and built binaries), inside the repository's
 * git-ignored .cache/ so it stays warm between runs and never touches the user's cache.
 */
export const TEST_GUARD_CACHE = join(__dirname, '..', '..', '.cache', 'guard-test');
