/**
 * failover-guard benchmark (`npm run bench:guard`): three guards (the bundled CLI, exec mode,
 * demo app) on a real PostgreSQL, for L = 6, 10 and 30 s. Prints median, p95 and spread (min–max)
 * of crash failover (kill -9 of the active node → first /health 200 elsewhere) and planned
 * handover (POST /step-down → first 200 elsewhere), guard RSS, DB statements per node per second
 * and per health probe, guard RSS after 1,000 probes. Env: BENCH_RUNS (default 5), BENCH_RUNS_30 (runs
 * for L = 30, default BENCH_RUNS), BENCH_LEASES (default "6,10,30"), BENCH_DB (postgresql, the
 * default, or mariadb: Debian's MariaDB with the MySQL store), BENCH_GUARD (binary, the default:
 * the Linux single executable as synth builds it; bundle: the esbuild bundle under this Node).
 *
 * RSS counts the executable's file-backed pages too. How many of those a process maps depends on
 * the page cache: the kernel maps cached neighbours of each page it faults in (fault-around), so
 * the same guard shows ≈18 MB more right after its executable was written (all of it cached,
 * the first boot) than after a reboot. Those pages are clean, shared and reclaimable; the bench
 * drops the executable from the page cache before starting the guards (the state after a
 * reboot; BENCH_WARM_CACHE=1 keeps it) and prints the anonymous part on its own.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { bundleGuard } from '../test/harness/guard-bundle';
import { activeNodes, GuardNode } from '../test/harness/guard-cluster';
import { httpGet } from '../test/harness/health';
import { sleep, waitFor } from '../test/harness/wait';
import { DATABASES, type TestDatabase } from '../test/harness/database';
import { GUARD_PROCESS_ENV } from '../lib/guard/platform/systemd/process-env';
import { GUARD_EXEC_ARGV, guardBinary } from '../lib/synth/guard-build';
import { GUARD_HEALTH_PATH, GUARD_METRICS_PATH, GUARD_STEP_DOWN_PATH } from '../lib/contracts/guard-endpoints';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const RUNS_30 = Number(process.env.BENCH_RUNS_30 ?? RUNS);
const LEASES = (process.env.BENCH_LEASES ?? '6,10,30').split(',').map(Number);
const PROBES = 1000;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.ceil(q * s.length) - 1);
  return s[Math.max(0, i)];
}

async function firstActiveElsewhere(nodes: GuardNode[], old: GuardNode, t0: number, timeoutMs: number): Promise<number> {
  const others = nodes.filter((n) => n !== old);
  for (;;) {
    const answers = await Promise.all(others.map((n) => n.health()));
    if (answers.some((a) => a.code === 200)) return (Date.now() - t0) / 1000;
    if (Date.now() - t0 > timeoutMs) throw new Error('no failover');
    await sleep(20);
  }
}

async function active(nodes: GuardNode[], timeoutMs: number): Promise<GuardNode> {
  await waitFor('one active', async () => (await activeNodes(nodes)).length === 1, timeoutMs);
  const [name] = await activeNodes(nodes);
  return nodes.find((n) => n.name === name)!;
}

async function statements(n: GuardNode): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${n.healthPort}${GUARD_METRICS_PATH}`).then((r) => r.text());
  return Number(/^failover_guard_db_statements_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

function statusMb(n: GuardNode, key: 'VmRSS' | 'RssAnon'): number {
  const kb = Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${n.proc!.pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}
const rssMb = (n: GuardNode) => statusMb(n, 'VmRSS');
const anonMb = (n: GuardNode) => statusMb(n, 'RssAnon');

interface Result {
  L: number;
  runs: number;
  crash: number[];
  handover: number[];
  /** Max guard RSS in steady state (renews and occasional probes). */
  rssSteady: number;
  /** Max guard RSS two periods after the 1,000-probe burst. */
  rssBurst: number;
  /** Max anonymous part of the guard RSS two periods after the burst. */
  anonBurst: number;
  stmtPerNodeSec: number;
  stmtPerPeriod: number;
  stmtPerProbe: number;
}

async function bench(L: number, runs: number, pg: TestDatabase, bundle: string, root: string): Promise<Result> {
  const R = Math.max(1, L / 10);
  const cluster = `bench${L}`;
  const nodes: GuardNode[] = [];
  for (let i = 0; i < 3; i++) nodes.push(await GuardNode.create(`${cluster}-${i}`, cluster, bundle, root, pg, { failOverSecs: L }));
  nodes.forEach((n) => n.start());
  try {
    let cur = await active(nodes, 20000);
    await sleep(2 * R * 1000);

    // steady state: statements per node per second over 10 periods (±1 statement of quantization)
    const window = 10 * R * 1000;
    const before = await Promise.all(nodes.map(statements));
    await sleep(window);
    const after = await Promise.all(nodes.map(statements));
    const perNodeSec = after.map((a, i) => (a - before[i]) / (window / 1000));
    const stmtPerNodeSec = Math.max(...perNodeSec);

    const rssSteady = Math.max(...nodes.map(rssMb));

    // health probes: 1,000 GETs on the active node, 50 at a time
    const s0 = await statements(cur);
    const p0 = Date.now();
    for (let i = 0; i < PROBES; i += 50) await Promise.all(Array.from({ length: 50 }, () => httpGet(cur.healthPort, GUARD_HEALTH_PATH, 1000)));
    const elapsed = Date.now() - p0;
    const s1 = await statements(cur);
    const renewsDuring = Math.ceil(elapsed / (R * 1000 * 0.9)) + 1;
    const stmtPerRenew = Math.max(1, Math.round(stmtPerNodeSec * R)); // 3 on MySQL (one multi-statement)
    const stmtPerProbe = Math.max(0, s1 - s0 - renewsDuring * stmtPerRenew) / PROBES;

    // steady RSS after the burst: two periods later (a burst's garbage is collected by then)
    await sleep(2 * R * 1000);
    const rssBurst = Math.max(...nodes.map(rssMb));
    const anonBurst = Math.max(...nodes.map(anonMb));
    process.stdout.write(`  L=${L} guard RSS: steady ${rssSteady.toFixed(1)} MB, after ${PROBES} probes ${rssBurst.toFixed(1)} MB, of which anonymous ${anonBurst.toFixed(1)} MB (max of 3 guards)\n`);

    const crash: number[] = [];
    for (let i = 0; i < runs; i++) {
      // a random phase within the renew period, like a real crash
      await sleep(Math.random() * R * 1000);
      const t0 = Date.now();
      cur.signalNode('SIGKILL');
      crash.push(await firstActiveElsewhere(nodes, cur, t0, (L + 3 * R) * 1000));
      await cur.exited();
      cur.start();
      await waitFor('restarted guard answers', async () => (await cur.health()).code === 503, 20000);
      cur = await active(nodes, 5000);
      process.stdout.write(`  L=${L} crash run ${i + 1}: ${crash[i].toFixed(2)} s\n`);
    }

    const handover: number[] = [];
    for (let i = 0; i < runs; i++) {
      await sleep(2 * R * 1000);
      const t0 = Date.now();
      await fetch(`http://127.0.0.1:${cur.healthPort}${GUARD_STEP_DOWN_PATH}`, { method: 'POST' });
      handover.push(await firstActiveElsewhere(nodes, cur, t0, L * 2000));
      cur = await active(nodes, 5000);
      process.stdout.write(`  L=${L} handover run ${i + 1}: ${handover[i].toFixed(2)} s\n`);
    }
    return { L, runs, crash, handover, rssSteady, rssBurst, anonBurst, stmtPerNodeSec, stmtPerPeriod: stmtPerNodeSec * R, stmtPerProbe };
  } finally {
    await Promise.all(nodes.map((n) => n.kill()));
  }
}

async function mainBench(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'guard-bench-'));
  const kind = (process.env.BENCH_GUARD ?? 'binary').toLowerCase();
  if (kind !== 'binary' && kind !== 'bundle') throw new Error(`BENCH_GUARD: expected binary or bundle, got "${kind}"`);
  const bundle = kind === 'binary' ? guardBinary('linux-x64') : bundleGuard(root);
  if (kind === 'binary' && !process.env.BENCH_WARM_CACHE) {
    // GNU dd: "iflag=nocache count=0" asks the kernel to drop the file's cached pages
    execFileSync('dd', [`if=${bundle}`, 'iflag=nocache', 'count=0', 'status=none']);
  }
  process.stdout.write(`guard: ${kind === 'binary' ? `${bundle} (page cache ${process.env.BENCH_WARM_CACHE ? 'kept' : 'dropped'})` : `${bundle} under node ${process.version}`}\n`);
  const want = (process.env.BENCH_DB ?? 'postgresql').toLowerCase();
  const fixture = DATABASES.find((d) => d.name.toLowerCase() === want);
  if (!fixture) throw new Error(`BENCH_DB: expected ${DATABASES.map((d) => d.name.toLowerCase()).join(' or ')}, got "${want}"`);
  const pg = await fixture.start();
  process.stdout.write(`database: ${fixture.name}\n`);
  // the guards get their service unit's process environment (BENCH_PLAIN_ENV=1: node defaults);
  // set only now, after this process and the database have started
  if (!process.env.BENCH_PLAIN_ENV) {
    Object.assign(process.env, GUARD_PROCESS_ENV);
    // the bundle under plain node gets the flags the single executable has baked in
    if (kind === 'bundle') process.env.NODE_OPTIONS = GUARD_EXEC_ARGV.join(' ');
  }
  process.stdout.write(`guard process env: ${process.env.BENCH_PLAIN_ENV ? 'node defaults' : JSON.stringify(GUARD_PROCESS_ENV)}\n`);
  const results: Result[] = [];
  try {
    for (const L of LEASES) {
      const runs = L === 30 ? RUNS_30 : RUNS;
      process.stdout.write(`L = ${L} s, ${runs} runs each\n`);
      results.push(await bench(L, runs, pg, bundle, root));
    }
  } finally {
    await pg.close();
    rmSync(root, { recursive: true, force: true });
  }
  const f = (x: number) => x.toFixed(2);
  const rows = [
    ['L (s)', 'runs', 'crash median', 'crash p95', 'crash min–max', 'handover median', 'handover p95', 'handover min–max', 'RSS steady (MB)', 'RSS after 1,000 probes (MB)', 'anonymous (MB)', 'stmt/node/s', 'stmt/node/period', 'stmt/probe'],
    ...results.map((r) => [
      String(r.L),
      String(r.runs),
      f(quantile(r.crash, 0.5)),
      f(quantile(r.crash, 0.95)),
      `${f(Math.min(...r.crash))}–${f(Math.max(...r.crash))}`,
      f(quantile(r.handover, 0.5)),
      f(quantile(r.handover, 0.95)),
      `${f(Math.min(...r.handover))}–${f(Math.max(...r.handover))}`,
      r.rssSteady.toFixed(1),
      r.rssBurst.toFixed(1),
      r.anonBurst.toFixed(1),
      f(r.stmtPerNodeSec),
      f(r.stmtPerPeriod),
      r.stmtPerProbe.toFixed(3),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => '| ' + row.map((cell, c) => cell.padEnd(widths[c])).join(' | ') + ' |';
  console.log('');
  console.log(line(rows[0]));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  rows.slice(1).forEach((r) => console.log(line(r)));
  console.log('\nseconds; crash = kill -9 of the active node (guard + app) → first 200 elsewhere; handover = POST /step-down → first 200 elsewhere (drain 0).');
}

mainBench().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
