import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';
import type { Problem } from '../core/problems';

/** File names `npm run build:guard` writes under `<package root>/dist/bin/`. */
export const GUARD_BINARY_NAMES = { linux: 'failover-guard-linux-x64', windows: 'failover-guard-win-x64.exe' } as const;

/** The package root: the nearest directory above `from` whose package.json is ours. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'failover-constructs') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the failover-constructs package root above ${from}`);
  }
}

/** `<package root>/dist/bin/failover-guard-linux-x64` (or the win-x64 .exe). */
export function defaultGuardBinaryPath(os: 'linux' | 'windows'): string {
  return join(packageRoot(), 'dist', 'bin', GUARD_BINARY_NAMES[os]);
}

/** A problem naming `prop` when the guard binary is missing, with the command that builds it. */
export function guardBinaryProblems(prop: string, path: string): Problem[] {
  return path && !existsSync(path) ? [{ path: prop, message: `guard binary not found at ${path}; run \`npm run build:guard\` first (or pass ${prop})` }] : [];
}
