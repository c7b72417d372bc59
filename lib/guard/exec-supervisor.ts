import { spawn } from 'child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import type { Log } from './log';
import { exitedWithin, ProcessSupervisor, spawnStarted, type StartedProcess } from './supervisor';

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
  /**
   * Heartbeat watchdog timeout (see `execWatchdogSecs` in lib/spec/timing): when the guard's event
   * loop stops beating this long (SIGSTOP, VM freeze, D-state), a shell outside it kills the app.
   * @default - no heartbeat watchdog (the app still dies with the guard)
   */
  readonly watchdogSecs?: number;
  /** Shell for the command and the watchdog. @default /bin/sh (dash on Debian, bash on Amazon Linux) */
  readonly shell?: string;
  /** The process whose death kills the app. @default process.pid (tests pass a stand-in) */
  readonly guardPid?: number;
}

/** How often the watchdog shell looks at the guard and its heartbeat. */
const WATCHDOG_TICK_SECS = 0.2;

/**
 * The watchdog, POSIX sh (dash rejects `kill -0 -- -PGID`; `kill -0 -PGID` works in dash, bash
 * and busybox). Arguments: guard pid, app process group, heartbeat file, heartbeat limit in
 * centiseconds (0 = no heartbeat check). It ends when the app group is gone; it kills the group
 * when the guard is gone or its heartbeat has not changed for the limit. Time is read from
 * /proc/uptime (monotonic, builtin `read`, no fork), so a slow loop never stretches the limit.
 * It runs in its own session, so it outlives a kill -9 of the guard and reaches an app the
 * command's shell forked.
 */
export const WATCHDOG_SCRIPT = `guard=$1 pgid=$2 beat=$3 limit=$4
last='' changed=''
while kill -0 "$guard" 2>/dev/null && kill -0 "-$pgid" 2>/dev/null; do
  if [ "$limit" -gt 0 ]; then
    read -r up _ < /proc/uptime
    up=\${up%.*}\${up#*.}
    up=\${up#"\${up%%[!0]*}"}
    up=\${up:-0}
    now=''
    [ -r "$beat" ] && read -r now < "$beat"
    if [ -z "$changed" ] || [ "$now" != "$last" ]; then last=$now changed=$up; fi
    [ $((up - changed)) -lt "$limit" ] || break
  fi
  sleep ${WATCHDOG_TICK_SECS}
done
kill -KILL "-$pgid" 2>/dev/null
exit 0`;

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
export class ExecSupervisor extends ProcessSupervisor {
  private heartbeat?: NodeJS.Timeout;
  private beats = 0;

  constructor(private readonly props: ExecSupervisorProps) {
    super(props.ready);
  }

  private get beatFile(): string {
    return `${this.props.pidFile}.beat`;
  }

  /** Written from the guard's event loop: when the loop stalls, the file stops changing. */
  private beat(): void {
    try {
      writeFileSync(this.beatFile, `${++this.beats}\n`);
    } catch (e) {
      this.props.log.warn({ err: String(e) }, 'could not write the heartbeat file');
    }
  }

  private startHeartbeat(): number {
    const secs = this.props.watchdogSecs;
    if (!secs) return 0;
    this.beat();
    this.heartbeat = setInterval(() => this.beat(), Math.max(50, (secs * 1000) / 5));
    this.heartbeat.unref();
    return Math.max(1, Math.round(secs * 100));
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    rmSync(this.beatFile, { force: true });
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

  cleanup(): Promise<void> {
    return this.queued(() => this.cleanupNow());
  }

  private async cleanupNow(): Promise<void> {
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

  protected async launch(env: Readonly<Record<string, string>>): Promise<StartedProcess> {
    const shell = this.props.shell ?? '/bin/sh';
    const argv = [...(SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--'] : []), shell, '-c', this.props.command];
    const app = await spawnStarted(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    const pgid = app.child.pid!;
    writeFileSync(this.props.pidFile, `${pgid}\n`);
    if (process.platform !== 'win32') {
      const limit = this.startHeartbeat();
      const guardPid = this.props.guardPid ?? process.pid;
      const watchdog = spawn(shell, ['-c', WATCHDOG_SCRIPT, 'failover-guard-watchdog', String(guardPid), String(pgid), this.beatFile, String(limit)], {
        detached: true,
        stdio: 'ignore',
      });
      watchdog.unref();
    }
    this.props.log.info({ pgid, command: this.props.command }, 'app started');
    return app;
  }

  protected ended(app: StartedProcess): void {
    this.stopHeartbeat();
    killGroup(app.child.pid!, 'SIGKILL');
    rmSync(this.props.pidFile, { force: true });
  }

  protected async terminate(app: StartedProcess): Promise<void> {
    const pgid = app.child.pid!;
    killGroup(pgid, 'SIGTERM');
    if (!(await exitedWithin(app.exited, this.props.stopTimeoutSecs))) this.props.log.warn({ pgid }, 'app did not stop in time: SIGKILL');
    // SIGKILL the group in any case: processes the command started may outlive its shell.
    killGroup(pgid, 'SIGKILL');
    await app.exited;
    this.stopHeartbeat();
    rmSync(this.props.pidFile, { force: true });
    this.props.log.info({ pgid }, 'app stopped');
  }
}
