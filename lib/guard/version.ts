import { version } from '../../package.json';

/** The guard's version (bundled from package.json at build time, never read at run time). */
export const GUARD_VERSION: string = version;
