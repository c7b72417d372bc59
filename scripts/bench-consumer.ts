/**
 * Prints, for each consumer project test/consumer builds (cdktf and cdktn, TypeScript 5.9 and
 * 7), its install size and the time of each step (install, tsc, synth, jest), from one packed
 * tarball. `npm run bench:consumer [-- --runs N]` repeats the whole set N times (default 1) and
 * prints the medians. The first run fills npm's cache; later runs install from it.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { type CombinationRun, combinations, figures, inPool, packOnce, runCombination } from '../test/consumer/combinations';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--runs');
  const runs = at > 0 ? Number(process.argv[at + 1]) : 1;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a whole number ≥ 1 (got ${process.argv[at + 1]})`);
  const work = mkdtempSync(join(tmpdir(), 'fc-bench-consumer-'));
  try {
    const started = Date.now();
    const tarball = packOnce(work);
    console.log(`npm pack: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const all: CombinationRun[][] = [];
    for (let i = 0; i < runs; i++) {
      const round = await inPool(combinations(), 2, (c) => runCombination(c, tarball, join(work, `run-${i}`)));
      for (const r of round) console.log(`run ${i + 1}: ${figures(r)}`);
      all.push(round);
    }
    if (runs > 1) {
      console.log(`medians of ${runs} runs:`);
      for (const [i, c] of combinations().entries()) {
        const steps = all[0][i].steps.map((s) => s.name).filter((n) => n !== 'write' && n !== 'size');
        const size = median(all.map((round) => round[i].installBytes ?? NaN)) / 1e6;
        const times = steps.map((n) => `${n} ${median(all.map((round) => round[i].steps.find((s) => s.name === n)?.seconds ?? NaN)).toFixed(1)} s`);
        console.log(`  ${c.name}: node_modules ${size.toFixed(0)} MB; ${times.join(', ')}`);
      }
    }
    if (all.some((round) => round.some((r) => r.steps.some((s) => !s.ok)))) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
