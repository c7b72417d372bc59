import { createHash } from 'crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'fs';
import { dirname, join } from 'path';
import type { Problem } from './problems';

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

/** Hex SHA-256 of a file, read in 1 MiB chunks (the guard binary is large; memory stays flat). */
export function sha256OfFile(path: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
