/**
 * The systemd supervisor's kill on a booted node (systemd 252 in systemd-nspawn): the unit's whole
 * cgroup dies at once — a process the service double-forked into a session of its own included —
 * and "gone" is confirmed from the cgroup (`populated 0`, or the cgroup removed), not from the main
 * process. The supervisor runs in this process; its systemctl calls and cgroup files reach into the
 * node (nsenter, /proc/<PID 1>/root), so what it talks to is the node's own systemd and cgroups.
 */
import { spawn, type ChildProcess } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { runCommand, ServiceSupervisor, systemdControl, type RunCommand } from '../../lib/guard/service-supervisor';
import { appDropInSettings } from '../../lib/guard/unit-contract';
import { deriveGuardTimings } from '../../lib/spec/timing';
import { NSENTER, NSPAWN } from '../harness/booted-nodes';
import { netName } from '../harness/netns';
import { silent } from '../harness/silent-log';
import { sleep } from '../harness/wait';

/**
 * The service: its main process, and a `sleep 601` it double-forks out of its session (setsid).
 * KillMode=process (as some vendor units have): systemd's own stop ends the main process only and
 * reports the unit inactive with the `sleep 601` still in its cgroup.
 */
const DOUBLE_FORK_UNIT = `[Service]
ExecStart=/bin/sh -c 'setsid sh -c "exec sleep 601" & exec sleep 600'
KillMode=process
`;
/** A vendor-like unit whose ExecStop= never finishes, with the guard's app drop-in settings (S = 1 s). */
const SLOW_STOP_UNIT = `[Service]
ExecStart=/bin/sleep 600
ExecStop=/bin/sleep 602
${appDropInSettings('fc-slowstop.service', deriveGuardTimings({ failOverIntervalSecs: 30, stopTimeoutSecs: 1 }))
  .filter(([k]) => k !== 'EnvironmentFile')
  .map(([k, v]) => `${k}=${v}`)
  .join('\n')}
`;
const TARGET = `[Unit]
Requires=basic.target
After=basic.target
AllowIsolate=yes
`;

let dir: string;
let nspawn: ChildProcess | undefined;
let pid1 = 0;

/** systemd inside the node: the grandchild of systemd-nspawn whose name is systemd. */
function findPid1(): number {
  const children = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  let todo = nspawn?.pid ? children(nspawn.pid) : [];
  for (let depth = 0; depth < 3; depth++) {
    const hit = todo.find((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'systemd');
    if (hit) return hit;
    todo = todo.flatMap(children);
  }
  return 0;
}

/** Runs a program inside the node (what the guard's RunCommand would run on it). */
const inNode: RunCommand = (file, args, timeoutMs) => runCommand(NSENTER, ['-t', String(pid1), '-m', '-p', '-n', '-u', '-i', '--', file === 'systemctl' ? '/bin/systemctl' : file, ...args], timeoutMs);

/** pids of the node's processes whose command line starts with `prefix`. */
async function nodeProcs(prefix: string): Promise<string[]> {
  const r = await inNode('/bin/ps', ['-eo', 'pid=,args='], 5000);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.split(/\s+/).slice(1).join(' ').startsWith(prefix));
}

beforeAll(async () => {
  if (!existsSync(NSPAWN) || !existsSync(NSENTER)) throw new Error(`booted-node tests need ${NSPAWN} (apt-get install systemd-container) and ${NSENTER}`);
  dir = mkdtempSync(join(tmpdir(), 'fc-kill-node-'));
  const units = { 'fc-dbl.service': DOUBLE_FORK_UNIT, 'fc-slowstop.service': SLOW_STOP_UNIT, 'fc-kill.target': TARGET };
  for (const [name, text] of Object.entries(units)) writeFileSync(join(dir, name), text);
  nspawn = spawn(
    NSPAWN,
    [
      '--volatile=yes',
      '--directory=/',
      '--boot',
      '--tmpfs=/usr/local',
      '--register=no',
      '--keep-unit',
      '--console=pipe',
      '--quiet',
      '--private-network',
      `--machine=${netName('fc-kill-node')}`,
      ...Object.keys(units).map((u) => `--bind-ro=${join(dir, u)}:/etc/systemd/system/${u}`),
      'systemd.unit=fc-kill.target',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 300; i++) {
    pid1 = findPid1();
    if (pid1 && /running|degraded/.test((await inNode('systemctl', ['is-system-running'], 5000)).stdout)) return;
    await sleep(100);
  }
  throw new Error('the node did not boot within 30 s');
}, 60000);

afterAll(async () => {
  if (nspawn?.pid && nspawn.exitCode === null) {
    const exited = new Promise((r) => nspawn!.once('exit', r));
    nspawn.kill('SIGKILL');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('systemd kill on a booted node', () => {
  for (const how of ['kill', 'stop'] as const) {
    it(`${how}: the unit's whole cgroup ends, a double-forked process included; resolves only with the cgroup empty`, async () => {
      // given: the service runs, with a process outside its main process's session
      const cgroupRoot = `/proc/${pid1}/root/sys/fs/cgroup`;
      const sup = new ServiceSupervisor({ control: systemdControl('fc-dbl.service', { run: inNode, envDir: join(dir, 'env'), cgroupRoot }), stopTimeoutSecs: 5, log: silent });
      await sup.start({ FAILOVER_GUARD_TERM: '1' });
      for (let i = 0; i < 100 && (await nodeProcs('sleep 60')).length < 2; i++) await sleep(100);
      expect((await nodeProcs('sleep 601')).length).toBe(1);
      // when
      await (how === 'kill' ? sup.kill(performance.now() + 10000) : sup.stop(performance.now() + 10000));
      // then: nothing of the service is left (before, a stop was done once the unit was inactive,
      // with `sleep 601` still running), and its cgroup is empty or removed
      expect(await nodeProcs('sleep 60')).toEqual([]);
      const events = join(cgroupRoot, existsSync(join(cgroupRoot, 'cgroup.controllers')) ? '' : 'unified', 'system.slice', 'fc-dbl.service', 'cgroup.events');
      expect(existsSync(events) ? readFileSync(events, 'utf8') : 'populated 0').toMatch(/^populated 0$/m);
      expect((await inNode('systemctl', ['is-active', 'fc-dbl.service'], 5000)).stdout.trim()).not.toMatch(/^(active|activating|deactivating)$/);
    });
  }

  it('the app drop-in: a vendor ExecStop= that runs out of TimeoutStopSec is followed by SIGKILL, not by a second TimeoutStopSec of SIGTERM', async () => {
    // given
    await inNode('systemctl', ['start', 'fc-slowstop.service'], 10000);
    // when: systemd's own stop (as the guard unit's ExecStopPost= issues it)
    await inNode('systemctl', ['stop', 'fc-slowstop.service'], 20000);
    // then: systemd says it killed after the ExecStop timeout (TimeoutStopFailureMode=kill), never "Terminating"
    const journal = (await inNode('/bin/journalctl', ['-u', 'fc-slowstop.service', '--no-pager', '-o', 'cat'], 10000)).stdout;
    expect(journal).toMatch(/Stopping timed out\. Killing\./);
    expect(journal).not.toMatch(/Stopping timed out\. Terminating\./);
    expect(await nodeProcs('sleep 60')).toEqual([]);
  });
});
