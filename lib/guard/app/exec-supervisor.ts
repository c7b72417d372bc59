import { spawn } from 'child_process';
import { randomUUID } from 'crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import { KILL_RESERVE_MS, WATCHDOG_TICK_CS } from '../../contracts/timing';
import type { Log } from '../log';
import { allGone, groupGone, groupMembers, markedOutside, signalGroup } from './process-group';
import { exitedBy, ProcessSupervisor, spawnStarted, type StartedProcess } from './supervisor';

export interface ExecSupervisorProps {
  /** Shell command line (run with `sh -c`). */
  readonly command: string;
  /** `service.ready`. @default - running = ready */
  readonly ready?: string;
  /** Bounds {@link ExecSupervisor.cleanup}'s kill of a leftover app (a stop's bound is the caller's deadline). */
  readonly stopTimeoutSecs: number;
  /**
   * How long before a stop's deadline the graceful stop turns into a kill of the group, so that
   * the group is confirmed empty by the deadline (the kill-confirm bound K). @default 1000
   */
  readonly killReserveMs?: number;
  /** Where the app's process-group id is kept, so a restarted guard can kill a leftover app. */
  readonly pidFile: string;
  readonly cluster: string;
  readonly node: string;
  readonly log: Log;
  /**
   * Heartbeat watchdog timeout (see `execWatchdogSecs` in lib/contracts/timing): when the guard's event
   * loop stops beating this long (SIGSTOP, VM freeze, D-state), a shell outside it kills the app.
   * @default - no heartbeat watchdog (the app still dies with the guard)
   */
  readonly watchdogSecs?: number;
  /** Shell for the command and the watchdog. @default /bin/sh (dash on Debian, bash on Amazon Linux) */
  readonly shell?: string;
  /** The process whose death kills the app. @default process.pid (tests pass a stand-in) */
  readonly guardPid?: number;
}

/**
 * Environment variable the app gets, with an id of its start: a kill finds the processes it
 * started that left its process group (setsid) by it.
 */
export const APP_START_VAR = 'FAILOVER_GUARD_APP_START';

/**
 * The watchdog, POSIX sh (dash rejects `kill -0 -- -PGID`; `kill -0 -PGID` works in dash, bash
 * and busybox). Arguments: guard pid, app process group, heartbeat file, heartbeat limit in
 * centiseconds (0 = no heartbeat check), the app's {@link APP_START_VAR} entry (its processes
 * that left the group are killed with it; GNU grep `-z`). The heartbeat file holds a counter and, optionally, the
 * instant to kill at in /proc/uptime centiseconds (the lease's valid-until, or a stop's deadline).
 * It ends when the app group is gone; it kills the group when the guard is gone, its heartbeat has
 * not changed for the limit, or the kill instant has come, whatever the heartbeat says: a guard
 * stalled mid-stop cannot make the app outlive its deadline. Before such a kill it writes why
 * to `<heartbeat file>.killed`, so the guard tells the backstop's kill (the fence) from the app's
 * own end. Time is read from /proc/uptime
 * (monotonic, counts a suspend, builtin `read`, no fork), so a slow loop never stretches a limit;
 * near the instant it sleeps only until it. It runs in its own session, so it outlives a kill -9
 * of the guard and reaches an app the command's shell forked.
 */
export const WATCHDOG_SCRIPT = `guard=$1 pgid=$2 beat=$3 limit=$4 mark=$5
last='' changed='' why=''
while kill -0 "$guard" 2>/dev/null && kill -0 "-$pgid" 2>/dev/null; do
  read -r up _ < /proc/uptime
  up=\${up%.*}\${up#*.}
  up=\${up#"\${up%%[!0]*}"}
  up=\${up:-0}
  now='' until=''
  [ -r "$beat" ] && read -r now until < "$beat"
  if [ "$limit" -gt 0 ]; then
    if [ -z "$changed" ] || [ "$now" != "$last" ]; then last=$now changed=$up; fi
    [ $((up - changed)) -lt "$limit" ] || { why='heartbeat stopped'; break; }
  fi
  nap=${WATCHDOG_TICK_CS}
  case $until in
    ''|*[!0-9]*) ;;
    *) [ "$up" -lt "$until" ] || { why='kill instant passed'; break; }
       [ $((until - up)) -lt "$nap" ] && nap=$((until - up)) ;;
  esac
  sleep "$((nap / 100)).$((nap / 10 % 10))$((nap % 10))"
done
[ -z "$why" ] || printf '%s\\n' "$why" > "$beat.killed"
kill -KILL "-$pgid" 2>/dev/null
[ -n "$mark" ] || exit 0
grep -lzxF -- "$mark" /proc/[0-9]*/environ 2>/dev/null | while read -r f; do
  p=\${f#/proc/}
  kill -KILL "\${p%/environ}" 2>/dev/null
done
exit 0`;

/** Now on the /proc/uptime clock, in centiseconds (boot time: it keeps counting through a suspend). */
function uptimeCs(): number {
  const [secs, frac = '0'] = readFileSync('/proc/uptime', 'utf8').split(' ')[0].split('.');
  return Number(secs) * 100 + Number(frac.padEnd(2, '0').slice(0, 2));
}

/** A monotonic instant (ms, `performance.now()`) on the /proc/uptime clock, rounded down (earlier is the safe side). */
export function uptimeInstantCs(instant: number): number {
  return uptimeCs() + Math.floor((instant - performance.now()) / 10);
}

/** `setpriv`, to give a child `--pdeathsig KILL` (Linux): it dies when the guard does. */
export const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => process.platform === 'linux' && existsSync(p));

/** True while a process with this pid exists (EPERM: it exists, not ours to signal). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `exec` mode: the guard spawns and owns the app, in its own process group (so stop reaches
 * every process the command started; a kill also finds those that left the group by the start's
 * {@link APP_START_VAR}). The app must not outlive the guard, even a kill -9:
 * - the direct child is spawned through `setpriv --pdeathsig KILL` (Linux: the kernel kills it
 *   when the guard dies);
 * - a tiny watchdog shell kills the whole group once the guard's pid is gone (covers grandchildren);
 * - the group id is written to a pid file; a starting guard kills a group left from its last run
 *   (checked against the app's FAILOVER_GUARD_CLUSTER/NODE environment, so a reused pid is never hit).
 */
export class ExecSupervisor extends ProcessSupervisor {
  private heartbeat?: NodeJS.Timeout;
  private beats = 0;
  /** The lease's valid-until (monotonic ms), set by the elector after every renew. */
  private validUntil?: number;
  /** The instant a stop in progress turns into a kill (monotonic ms). */
  private stopKillAt?: number;
  /** A group the watchdog watches: the heartbeat file is written only meanwhile. */
  private watched = false;
  /** Per app: its start's {@link APP_START_VAR} entry, which every process it starts inherits. */
  private readonly marks = new WeakMap<StartedProcess, string[]>();

  constructor(private readonly props: ExecSupervisorProps) {
    super(props.ready);
  }

  private get beatFile(): string {
    return `${this.props.pidFile}.beat`;
  }

  /** Where the watchdog says why it killed the app (see {@link WATCHDOG_SCRIPT}). */
  private get killedFile(): string {
    return `${this.beatFile}.killed`;
  }

  /**
   * The instant (monotonic ms: last renew's send + D) until which the lease is proven. The
   * watchdog outside the guard kills the app's group then, unless a later call moves it on: a
   * guard that stalls (SIGSTOP, swap, a frozen VM) cannot keep its app running past it.
   */
  setValidUntil(instant: number): void {
    this.validUntil = instant;
    this.beat();
  }

  /**
   * Written from the guard's event loop (atomically: the watchdog never reads half a line):
   * when the loop stalls, the file stops changing.
   */
  private beat(): void {
    if (!this.watched || process.platform !== 'linux') return;
    const at = [this.validUntil, this.stopKillAt].filter((t): t is number => t !== undefined);
    const until = at.length ? ` ${uptimeInstantCs(Math.min(...at))}` : '';
    try {
      writeFileSync(`${this.beatFile}.tmp`, `${++this.beats}${until}\n`);
      renameSync(`${this.beatFile}.tmp`, this.beatFile);
    } catch (e) {
      this.props.log.warn({ err: String(e) }, 'could not write the heartbeat file');
    }
  }

  private startHeartbeat(): number {
    this.watched = true;
    this.beat();
    const secs = this.props.watchdogSecs;
    if (!secs) return 0;
    this.heartbeat = setInterval(() => this.beat(), Math.max(50, (secs * 1000) / 5));
    this.heartbeat.unref();
    return Math.max(1, Math.round(secs * 100));
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.watched = false;
    this.stopKillAt = undefined;
    // a later start belongs to a later lease: it must not inherit this one's valid-until
    this.validUntil = undefined;
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
      signalGroup(pgid, 'SIGKILL');
      await groupGone(pgid, performance.now() + this.props.stopTimeoutSecs * 1000);
    }
    rmSync(this.props.pidFile, { force: true });
  }

  protected async launch(env: Readonly<Record<string, string>>, signal: AbortSignal): Promise<StartedProcess> {
    const shell = this.props.shell ?? '/bin/sh';
    const argv = [...(SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--'] : []), shell, '-c', this.props.command];
    // inherited by every process the app starts, and by nothing else (not hooks, not notify.command)
    const mark = `${APP_START_VAR}=${randomUUID()}`;
    const app = await spawnStarted(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env, [APP_START_VAR]: mark.slice(APP_START_VAR.length + 1) } }, signal);
    const pgid = app.child.pid!;
    this.marks.set(app, [mark]);
    writeFileSync(this.props.pidFile, `${pgid}\n`);
    // a reason left by an earlier start's watchdog must not be read as this app's
    rmSync(this.killedFile, { force: true });
    if (process.platform !== 'win32') {
      const limit = this.startHeartbeat();
      const guardPid = this.props.guardPid ?? process.pid;
      const watchdog = spawn(shell, ['-c', WATCHDOG_SCRIPT, 'failover-guard-watchdog', String(guardPid), String(pgid), this.beatFile, String(limit), mark], {
        detached: true,
        stdio: 'ignore',
      });
      watchdog.unref();
    }
    this.props.log.info({ pgid, command: this.props.command }, 'app started');
    return app;
  }

  protected ended(app: StartedProcess): string | undefined {
    this.stopHeartbeat();
    signalGroup(app.child.pid!, 'SIGKILL');
    rmSync(this.props.pidFile, { force: true });
    return this.takeKilledReason();
  }

  /** Why the watchdog killed the app, if it did (read once: the file is removed). */
  private takeKilledReason(): string | undefined {
    try {
      return readFileSync(this.killedFile, 'utf8').trim() || 'no reason given';
    } catch {
      return undefined;
    } finally {
      rmSync(this.killedFile, { force: true });
    }
  }

  /** SIGTERM to the group; at the deadline less the kill reserve, SIGKILL (the watchdog does it too, should this loop stall). */
  protected async terminate(app: StartedProcess, deadline: number): Promise<void> {
    const pgid = app.child.pid!;
    this.stopKillAt = deadline - (this.props.killReserveMs ?? KILL_RESERVE_MS);
    this.beat();
    signalGroup(pgid, 'SIGTERM');
    if (!(await exitedBy(app.exited, this.stopKillAt))) this.props.log.warn({ pgid }, 'app did not stop in time: SIGKILL');
    // SIGKILL the group in any case: processes the command started may outlive its shell.
    await this.killNow(app, deadline);
  }

  /**
   * SIGKILL to the whole group at once, then every member gone (not just the main process); on
   * Linux also every process that left the group (setsid) but carries this start's
   * {@link APP_START_VAR}.
   */
  protected async killNow(app: StartedProcess, deadline: number): Promise<void> {
    const pgid = app.child.pid!;
    signalGroup(pgid, 'SIGKILL');
    const marks = this.marks.get(app);
    if (marks?.length) await allGone(`process group ${pgid}`, () => [...groupMembers(pgid), ...markedOutside(pgid, marks)], deadline);
    else await groupGone(pgid, deadline);
    this.stopHeartbeat();
    rmSync(this.props.pidFile, { force: true });
    this.props.log.info({ pgid }, 'app stopped');
  }
}
