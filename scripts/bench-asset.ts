/**
 * Guard asset benchmark (`npm run bench:asset`): for the Linux and Windows single executables as
 * synth builds them, prints the binary's size, the size of the gzip file the clusters upload
 * (lib/synth/guard-build.ts compressedGuardBinary) and the time to make it, and the node-side
 * cost: median wall time of what the Linux boot script runs (`gzip -dc` into a file, then
 * `sha256sum`) over BENCH_RUNS runs (default 5). BENCH_COMPARE=1 also prints xz -6 and
 * zstd -19 (single-threaded, when installed), the formats gzip was chosen over.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { compressedGuardBinary, deterministicGzip, guardBinary, type GuardTarget } from '../lib/synth/guard-build';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MB = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timed(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const work = mkdtempSync(join(tmpdir(), 'fc-bench-asset-'));
try {
  for (const target of ['linux-x64', 'win-x64'] as GuardTarget[]) {
    const binary = guardBinary(target);
    const gz = compressedGuardBinary(binary);
    const data = readFileSync(binary);
    const compressMs = timed(() => writeFileSync(join(work, 'again.gz'), deterministicGzip(data)));
    console.log(`${target}: binary ${MB(data.length)}, gzip -9 ${MB(statSync(gz.path).size)} (${((100 * statSync(gz.path).size) / data.length).toFixed(1)} %, made in ${(compressMs / 1000).toFixed(1)} s)`);
    const out = join(work, 'guard');
    const unzip: number[] = [];
    const check: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(out, { force: true });
      unzip.push(timed(() => execFileSync('sh', ['-c', 'gzip -dc -- "$1" >"$2"', 'sh', gz.path, out])));
      check.push(timed(() => execFileSync('sh', ['-c', 'printf "%s  %s\\n" "$1" "$2" | sha256sum -c --quiet -', 'sh', gz.sha256, out])));
    }
    console.log(`  node side, median of ${RUNS}: gzip -dc ${median(unzip).toFixed(0)} ms, sha256sum ${median(check).toFixed(0)} ms`);
    if (process.env.BENCH_COMPARE === '1') {
      for (const [tool, args] of [['xz', ['-6', '-T1', '-c']], ['zstd', ['-19', '-T1', '-q', '-c']]] as const) {
        if (!has(tool)) continue;
        const file = join(work, `guard.${tool}`);
        const ms = timed(() => execFileSync('sh', ['-c', `${tool} ${args.join(' ')} -- "$1" >"$2"`, 'sh', binary, file]));
        const dms = timed(() => execFileSync('sh', ['-c', `${tool} -dc -- "$1" >/dev/null`, 'sh', file]));
        console.log(`  ${tool} ${args[0]}: ${MB(statSync(file).size)} (made in ${(ms / 1000).toFixed(1)} s, decompressed in ${dms.toFixed(0)} ms)`);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
