/**
 * Kill-confirm bound K per supervisor mode (`npm run bench:kill`): the time from `kill()` to the
 * app confirmed gone, median and max over BENCH_RUNS runs (default 20).
 * - exec: a process group of a shell, a child in a busy loop and a sleeping child, and a child
 *   that left the group (setsid); gone = no live member of the group left in /proc, nor a process
 *   carrying the start's environment.
 * - systemd (BENCH_MODES includes it; needs systemd-nspawn, root): a unit on a booted systemd 252
 *   node with a child and a double-forked process; gone = unit down and its cgroup empty. The
 *   supervisor runs on the host and reaches the node's systemctl through nsenter (a few ms per
 *   call more than a guard inside the node pays).
 * BENCH_MODES: comma list of exec, systemd (default both).
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ExecSupervisor } from '../lib/guard/app/exec-supervisor';
import { systemdControl } from '../lib/guard/platform/systemd/systemd-control';
import { ServiceSupervisor } from '../lib/guard/app/service-supervisor';
import type { Supervisor } from '../lib/guard/app/supervisor';
import { silent } from '../test/harness/silent-log';
import { SingleNode } from '../test/harness/single-node';
import { sleep } from '../test/harness/wait';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const MODES = (process.env.BENCH_MODES ?? 'exec,systemd').split(',');
const APP = `(while :; do :; done) & sleep 600 & setsid sleep 601 & exec sleep 602`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Starts, lets the app settle, kills; the ms from kill() to confirmed gone, per run. */
async function measure(sup: Supervisor, running: () => Promise<boolean>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await sup.start({ FAILOVER_GUARD_TERM: String(i + 1), FAILOVER_GUARD_CLUSTER: 'bench', FAILOVER_GUARD_NODE: 'kill' });
    for (let j = 0; j < 100 && !(await running()); j++) await sleep(20);
    await sleep(200);
    const t0 = performance.now();
    await sup.kill(t0 + 10000);
    ms.push(performance.now() - t0);
  }
  return ms;
}

function report(mode: string, ms: number[]): void {
  console.log(`${mode.padEnd(8)} K: median ${median(ms).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms (${ms.length} runs)`);
}

async function benchExec(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-kill-'));
  const pidFile = join(dir, 'app.pid');
  // the setsid'd child leaves the group: the kill finds it by the start's environment
  const sup = new ExecSupervisor({ command: APP, stopTimeoutSecs: 5, pidFile, cluster: 'bench', node: 'kill', log: silent, watchdogSecs: 30 });
  const members = () => {
    try {
      const pgid = readFileSync(pidFile, 'utf8').trim();
      return readFileSync(`/proc/${pgid}/stat`, 'utf8').length > 0;
    } catch {
      return false;
    }
  };
  report('exec', await measure(sup, async () => members()));
  rmSync(dir, { recursive: true, force: true });
}

async function benchSystemd(): Promise<void> {
  const node = new SingleNode({ 'fc-bench.service': `[Service]\nExecStart=/bin/sh -c '${APP.replace(/'/g, '')}'\n` });
  try {
    await node.boot('fc-bench-kill');
    const sup = new ServiceSupervisor({ control: systemdControl('fc-bench.service', { run: node.run, envDir: join(node.dir, 'env'), cgroupRoot: node.cgroupRoot }), stopTimeoutSecs: 5, log: silent });
    report('systemd', await measure(sup, async () => (await node.procs('sleep 60')).length >= 3));
  } finally {
    await node.shutdown();
  }
}

async function main(): Promise<void> {
  if (MODES.includes('exec')) await benchExec();
  if (MODES.includes('systemd')) await benchSystemd();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
