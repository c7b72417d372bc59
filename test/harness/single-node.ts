/**
 * One booted systemd node (systemd-nspawn, volatile root, private network) with the given units,
 * for tests and benchmarks that drive the node's own systemd from this process: `run` executes a
 * program inside the node (as the guard's RunCommand would there) and `cgroupRoot` is the node's
 * cgroup file system seen from here. No guard, database or network of its own.
 */
import { spawn, type ChildProcess } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { runCommand, type RunCommand } from '../../lib/guard/app/run-command';
import { NSENTER, NSPAWN, NSPAWN_NODE_ARGS } from './booted-nodes';
import { NodeCgroup } from './node-cgroup';
import { netName } from './netns';
import { sleep } from './wait';

const TARGET = `[Unit]
Requires=basic.target
After=basic.target
AllowIsolate=yes
`;

export class SingleNode {
  readonly dir = mkdtempSync(join(tmpdir(), 'fc-single-node-'));
  private nspawn?: ChildProcess;
  private pid1 = 0;
  private cgroup?: NodeCgroup;

  /** @param units unit file name → text, placed in /etc/systemd/system */
  constructor(private readonly units: Readonly<Record<string, string>>) {}

  /** Boots the node and waits until its systemd runs (at most 30 s). */
  async boot(name: string): Promise<void> {
    if (!existsSync(NSPAWN) || !existsSync(NSENTER)) throw new Error(`booted nodes need ${NSPAWN} (apt-get install systemd-container) and ${NSENTER}`);
    const units = { ...this.units, 'fc-single.target': TARGET };
    for (const [file, text] of Object.entries(units)) writeFileSync(join(this.dir, file), text);
    // a cgroup tree of its own: another run's node never shares a unit's cgroup with this one
    this.cgroup = new NodeCgroup(netName(name));
    const run = this.cgroup.wrap(NSPAWN, [
      ...NSPAWN_NODE_ARGS,
      '--private-network',
      `--machine=${netName(name)}`,
      ...Object.keys(units).map((u) => `--bind-ro=${join(this.dir, u)}:/etc/systemd/system/${u}`),
      'systemd.unit=fc-single.target',
    ]);
    this.nspawn = spawn(run.cmd, run.args, { stdio: 'ignore' });
    for (let i = 0; i < 300; i++) {
      this.pid1 = this.findPid1();
      if (this.pid1 && /running|degraded/.test((await this.run(['systemctl', 'is-system-running'], { timeoutMs: 5000 })).stdout)) return;
      await sleep(100);
    }
    throw new Error('the node did not boot within 30 s');
  }

  /** systemd inside the node: the nearest descendant of systemd-nspawn named systemd. */
  private findPid1(): number {
    const children = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    };
    let todo = this.nspawn?.pid ? children(this.nspawn.pid) : [];
    for (let depth = 0; depth < 3; depth++) {
      const hit = todo.find((p) => existsSync(`/proc/${p}/comm`) && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'systemd');
      if (hit) return hit;
      todo = todo.flatMap(children);
    }
    return 0;
  }

  /** Runs a program inside the node; `systemctl` is the node's. */
  readonly run: RunCommand = ([file, ...args], opts) =>
    runCommand([NSENTER, '-t', String(this.pid1), '-m', '-p', '-n', '-u', '-i', '--', file === 'systemctl' ? '/bin/systemctl' : file, ...args], opts);

  /** The node's cgroup file system, seen from here. */
  get cgroupRoot(): string {
    return `/proc/${this.pid1}/root/sys/fs/cgroup`;
  }

  /** The node's processes (`pid args` lines) whose command line starts with `prefix`. */
  async procs(prefix: string): Promise<string[]> {
    const r = await this.run(['/bin/ps', '-eo', 'pid=,args='], { timeoutMs: 5000 });
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.split(/\s+/).slice(1).join(' ').startsWith(prefix));
  }

  /** Hard power-off (SIGKILL to the node's systemd, which ends its PID namespace, and to systemd-nspawn), then removes the unit files and the node's cgroups. */
  async shutdown(): Promise<void> {
    const p = this.nspawn;
    const pid1 = this.pid1;
    if (p?.pid && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      if (pid1) process.kill(pid1, 'SIGKILL');
      p.kill('SIGKILL');
      await exited;
    }
    for (let i = 0; pid1 && i < 100 && existsSync(`/proc/${pid1}`); i++) await sleep(50);
    this.cgroup?.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
