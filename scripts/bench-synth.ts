/**
 * Synth benchmark: for every example stack (apps/stacks.ts EXAMPLE_STACKS), runs a fresh
 * `node --import tsx apps/main.ts` with FC_STACKS=<name> — what `cdktf synth` runs through
 * cdktf.json's `npx tsx apps/main.ts`, without npx's own start-up — RUNS times, each into a
 * new temp outdir (CDKTF_OUTDIR), and prints the median wall seconds and median peak RSS of
 * the whole process (GNU time's %e and %M; /proc-free fallback: the child's own maxRSS).
 *
 *   npm run bench:synth [-- --runs 5] [-- stack-name …]
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const root = join(__dirname, '..');
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5;
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error('--runs must be a positive integer');
  process.exit(2);
}

/** Stack names from apps/stacks.ts, read as text so this driver loads no cdktf itself. */
function stackNames(): string[] {
  const source = readFileSync(join(root, 'apps', 'stacks.ts'), 'utf8');
  const block = source.slice(source.indexOf('EXAMPLE_STACKS'));
  return [...block.matchAll(/^\s*'([a-z0-9-]+)':\s*\(/gm)].map((m) => m[1]);
}

interface Run {
  readonly secs: number;
  readonly rssMb: number;
}

const GNU_TIME = '/usr/bin/time';

function runOnce(stack: string): Run {
  const outdir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  try {
    const env = { ...process.env, FC_STACKS: stack, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' };
    const node = [process.execPath, '--import', 'tsx', 'apps/main.ts'];
    if (existsSync(GNU_TIME)) {
      const r = spawnSync(GNU_TIME, ['-f', 'BENCH %e %M', ...node], { cwd: root, env, encoding: 'utf8' });
      const m = /BENCH (\S+) (\d+)/.exec(r.stderr);
      if (r.status !== 0 || !m) throw new Error(`${stack}: synth failed (exit ${r.status})\n${r.stderr.slice(-2000)}`);
      return { secs: Number(m[1]), rssMb: Number(m[2]) / 1024 };
    }
    // No GNU time: wall clock here, peak RSS reported by the child itself on exit.
    const wrapper = `process.on('exit',()=>process.stderr.write('BENCH_RSS '+process.resourceUsage().maxRSS+'\\n'))`;
    const start = process.hrtime.bigint();
    const r = spawnSync(node[0], ['--import', 'tsx', '-e', `${wrapper};require('./apps/main.ts')`], { cwd: root, env, encoding: 'utf8' });
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    const m = /BENCH_RSS (\d+)/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`${stack}: synth failed (exit ${r.status})\n${r.stderr.slice(-2000)}`);
    return { secs, rssMb: Number(m[1]) / 1024 };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const known = stackNames();
const wanted = args.length > 0 ? args : known;
const unknown = wanted.filter((n) => !known.includes(n));
if (unknown.length > 0) {
  console.error(`unknown stack(s): ${unknown.join(', ')}; known: ${known.join(', ')}`);
  process.exit(2);
}
console.log(`synth benchmark: node --import tsx apps/main.ts, one stack per process, median of ${RUNS} (${existsSync(GNU_TIME) ? 'GNU time' : 'hrtime + maxRSS'})`);
console.log('stack                      seconds   peak RSS MB');
let failed = false;
for (const stack of wanted) {
  try {
    const runs = Array.from({ length: RUNS }, () => runOnce(stack));
    const secs = median(runs.map((r) => r.secs));
    const rss = median(runs.map((r) => r.rssMb));
    console.log(`${stack.padEnd(26)} ${secs.toFixed(2).padStart(7)}   ${rss.toFixed(0).padStart(11)}`);
  } catch (e) {
    failed = true;
    console.log(`${stack.padEnd(26)} failed: ${(e as Error).message.split('\n').slice(0, 3).join(' | ')}`);
  }
}
process.exit(failed ? 1 : 0);
