import { createHash } from 'crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'fs';
import { dirname, join } from 'path';
import type { Problem } from '../problems/problems';

/** The package root: the nearest directory above `from` whose package.json is ours. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'failover-constructs') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the failover-constructs package root above ${from}`);
  }
}

/** A problem naming `prop` when a given guard binary is missing (unset, the guard is built at synth). */
export function guardBinaryProblems(prop: string, path: string | undefined): Problem[] {
  if (path === undefined) return [];
  if (!path) return [{ path: prop, message: 'must be a file path, or unset to build the guard at synth' }];
  return existsSync(path) && statSync(path).isFile() ? [] : [{ path: prop, message: `no guard binary at ${path} (leave ${prop} unset to build it at synth)` }];
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
