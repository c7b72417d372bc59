import { spawn, type ChildProcess } from 'child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import type { Log } from './elector';
import { probeReady } from './readiness';
import type { Supervisor } from './supervisor';

export interface ExecSupervisorProps {
  /** Shell command line (run with `sh -c`). */
  readonly command: string;
  /** `service.ready`. @default - running = ready */
  readonly ready?: string;
  readonly stopTimeoutSecs: number;
  /** Where the app's process-group id is kept, so a restarted guard can kill a leftover app. */
  readonly pidFile: string;
  readonly cluster: string;
  readonly node: string;
  readonly log: Log;
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => process.platform === 'linux' && existsSync(p));

/** True while a process with this pid exists (EPERM: it exists, not ours to signal). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/**
 * `exec` mode: the guard spawns and owns the app, in its own process group (so stop reaches
 * every process the command started). The app must not outlive the guard, even a kill -9:
 * - the direct child is spawned through `setpriv --pdeathsig KILL` (Linux: the kernel kills it
 *   when the guard dies);
 * - a tiny watchdog shell kills the whole group once the guard's pid is gone (covers grandchildren);
 * - the group id is written to a pid file; a starting guard kills a group left from its last run
 *   (checked against the app's FAILOVER_GUARD_CLUSTER/NODE environment, so a reused pid is never hit).
 */
export class ExecSupervisor implements Supervisor {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private stopping = false;
  private listener?: (detail: string) => void;

  constructor(private readonly props: ExecSupervisorProps) {}

  onExit(listener: (detail: string) => void): void {
    this.listener = listener;
  }

  /** True when `pid` is an app this guard (cluster + node) started. */
  private ours(pid: number): boolean {
    if (process.platform !== 'linux') return true;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      return env.includes(`FAILOVER_GUARD_CLUSTER=${this.props.cluster}`) && env.includes(`FAILOVER_GUARD_NODE=${this.props.node}`);
    } catch {
      return false;
    }
  }

  async cleanup(): Promise<void> {
    let pgid: number;
    try {
      pgid = Number(readFileSync(this.props.pidFile, 'utf8').trim());
    } catch {
      return;
    }
    if (pgid > 1 && alive(pgid) && this.ours(pgid)) {
      this.props.log.warn({ pgid }, 'killing an app left over from an earlier guard run');
      killGroup(pgid, 'SIGKILL');
      for (let i = 0; i < 50 && alive(pgid); i++) await new Promise((r) => setTimeout(r, 100));
    }
    rmSync(this.props.pidFile, { force: true });
  }

  async start(env: Readonly<Record<string, string>>): Promise<void> {
    if (this.child) return;
    const argv = [...(SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--'] : []), '/bin/sh', '-c', this.props.command];
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    this.child = child;
    this.stopping = false;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const pgid = child.pid!;
    writeFileSync(this.props.pidFile, `${pgid}\n`);
    if (process.platform !== 'win32') {
      const watchdog = spawn(
        '/bin/sh',
        ['-c', 'while kill -0 "$1" 2>/dev/null && kill -0 -- "-$2" 2>/dev/null; do sleep 0.2; done; kill -KILL -- "-$2" 2>/dev/null', 'watchdog', String(process.pid), String(pgid)],
        { detached: true, stdio: 'ignore' },
      );
      watchdog.unref();
    }
    this.props.log.info({ pgid, command: this.props.command }, 'app started');
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (!this.stopping) {
        killGroup(pgid, 'SIGKILL');
        rmSync(this.props.pidFile, { force: true });
        this.listener?.(`exited with ${signal ?? `code ${code}`}`);
      }
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !child.pid) return;
    this.stopping = true;
    const pgid = child.pid;
    const exited = this.exited!;
    killGroup(pgid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.props.stopTimeoutSecs * 1000)));
    const timedOut = await Promise.race([exited.then(() => false), timeout]);
    clearTimeout(timer);
    if (timedOut) this.props.log.warn({ pgid }, 'app did not stop in time: SIGKILL');
    // SIGKILL the group in any case: processes the command started may outlive its shell.
    killGroup(pgid, 'SIGKILL');
    await exited;
    this.child = undefined;
    rmSync(this.props.pidFile, { force: true });
    this.props.log.info({ pgid }, 'app stopped');
  }

  async ready(): Promise<boolean> {
    if (!this.child || this.stopping) return false;
    return this.props.ready ? probeReady(this.props.ready) : true;
  }
}
