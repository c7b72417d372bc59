import { KILL_POLL_MS, KILL_RESERVE_MS, STOP_POLL_MS } from '../../contracts/timing';
import { systemClock, type Clock } from '../election/clock';
import type { Log } from '../log';
import { probeReady } from './readiness';
import { abortError, OperationQueue, throwIfAborted, type ExitListener, type Supervisor } from './supervisor';

/**
 * A service as the manager reports it. `running` covers every state in which a process may live
 * (activating, active, reloading, deactivating, start/stop pending); `unknown` (the manager did
 * not answer, or answered something unexpected) counts as running wherever that is the safe side.
 */
export interface ServiceState {
  readonly state: 'running' | 'stopped' | 'failed' | 'unknown';
  /** Changes whenever the service's main process is started anew (systemd: ExecMainStartTimestampMonotonic). */
  readonly startMark?: string;
  /** What the manager said, for logs. */
  readonly detail: string;
  /** systemd: the unit's control group (path below the cgroup root), when the manager named it. */
  readonly cgroup?: string;
}

/**
 * How one service manager starts, stops, kills and inspects a service. `timeoutMs` bounds a call
 * (what is left until the caller's deadline); a call past it counts as failed.
 */
export interface ServiceControl {
  readonly describe: string;
  /** What must precede a start (systemd: the per-start environment file, `reset-failed`); checks `signal` between its steps. @default - nothing */
  prepare?(env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void>;
  /** The one call that launches the service (throws when the manager refuses). */
  start(env: Readonly<Record<string, string>>): Promise<void>;
  /** Asks the service to stop (may return before it has); throws when the manager refuses. */
  stop(timeoutMs?: number): Promise<void>;
  /** Never throws: errors and timeouts are `unknown`. */
  state(timeoutMs?: number): Promise<ServiceState>;
  /** Kills every process of the service at once (systemd: its whole cgroup; Windows: its process tree). */
  kill(timeoutMs?: number): Promise<void>;
  /**
   * Whether nothing of the service runs any more (systemd: the cgroup is empty and the unit
   * inactive). Never throws. @default the state is stopped or failed
   */
  gone?(timeoutMs?: number): Promise<{ gone: boolean; detail: string }>;
  /** Called once a stop is confirmed (systemd: removes the per-start environment file). @default - nothing */
  stopped?(): void;
}

export interface ServiceSupervisorProps {
  readonly control: ServiceControl;
  readonly ready?: string;
  readonly stopTimeoutSecs: number;
  /** How long before a stop's deadline the graceful stop turns into a kill (the kill-confirm bound K). @default {@link KILL_RESERVE_MS} */
  readonly killReserveMs?: number;
  readonly log: Log;
  /** Monotonic clock for the deadlines and the exit watch. @default systemClock */
  readonly clock?: Clock;
  /** How often a started service's state is checked to notice its exit (R). @default 1000 */
  readonly watchMs?: number;
}

/** Fail closed: a process may live in every state but a confirmed stop or failure. */
export const mayRun = (s: ServiceState): boolean => s.state === 'running' || s.state === 'unknown';

/**
 * `systemd` and `windows-service` modes: the OS service manager runs the app; the guard starts,
 * stops, kills, probes and watches it. Supervision fails closed: a stop or kill is done only when
 * the manager reports the service gone (systemd: its cgroup empty too); unknown states, errors
 * and timeouts count as running. A graceful stop turns into a kill before its deadline; a kill
 * preempts the queue and aborts a start in progress. An exit or failure of a started service is
 * reported through {@link onExit} within one watch period, like exec mode.
 */
export class ServiceSupervisor implements Supervisor {
  private readonly ops = new OperationQueue();
  private readonly clock: Clock;
  private listener?: ExitListener;
  /** Bumped by every start, stop and kill: a watch loop of an earlier start ends quietly. */
  private generation = 0;
  /** Aborted by every kill: starts issued before it launch nothing. */
  private starts = new AbortController();
  /** The manager's start call in flight: a kill meanwhile kills again once it returns (its job may come after the kill's). */
  private launching?: Promise<unknown>;

  constructor(private readonly props: ServiceSupervisorProps) {
    this.clock = props.clock ?? systemClock;
  }

  onExit(listener: ExitListener): void {
    this.listener = listener;
  }

  /** A leftover service from an earlier guard run is killed (no lease backs it), bounded by the stop timeout. */
  cleanup(): Promise<void> {
    return this.kill(this.clock.now() + this.props.stopTimeoutSecs * 1000);
  }

  start(env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    const aborted = signal ? AbortSignal.any([signal, this.starts.signal]) : this.starts.signal;
    return this.ops.run(async () => {
      const { control, log } = this.props;
      throwIfAborted(aborted);
      const before = await control.state();
      throwIfAborted(aborted);
      await control.prepare?.(env, aborted);
      throwIfAborted(aborted);
      const launching = control.start(env);
      this.launching = launching.catch(() => undefined);
      try {
        await launching;
      } finally {
        this.launching = undefined;
      }
      if (aborted.aborted) throw abortError(); // the kill that aborted it has killed the service after this call (see killNow)
      const gen = ++this.generation;
      log.info({ service: control.describe }, 'app started');
      void this.watch(gen, before.startMark);
    });
  }

  /**
   * Until the next start or stop: a service that reports `failed`, or `stopped` after it was
   * seen starting (its start mark moved, or it was seen running), has exited by itself.
   */
  private async watch(gen: number, markBefore: string | undefined): Promise<void> {
    const { control, log } = this.props;
    let started = false;
    while (gen === this.generation) {
      await this.clock.sleep(this.props.watchMs ?? 1000);
      if (gen !== this.generation) return;
      const s = await control.state();
      if (gen !== this.generation) return;
      if (s.state === 'running' || (s.startMark !== undefined && s.startMark !== markBefore)) started = true;
      if (s.state === 'failed' || (s.state === 'stopped' && started)) {
        this.generation++;
        log.warn({ service: control.describe, state: s.detail }, 'the service exited');
        this.listener?.(`service ${control.describe} ${s.detail}`);
        return;
      }
    }
  }

  stop(deadline: number): Promise<void> {
    return this.ops.run(() => this.stopNow(deadline));
  }

  private left(deadline: number): number {
    return Math.max(1, deadline - this.clock.now());
  }

  private async stopNow(deadline: number): Promise<void> {
    const { control, log } = this.props;
    this.generation++;
    const killAt = deadline - (this.props.killReserveMs ?? KILL_RESERVE_MS);
    try {
      await control.stop(this.left(killAt));
    } catch (e) {
      log.warn({ service: control.describe, err: String(e) }, 'stop request failed; waiting, then killing');
    }
    let s = await control.state(this.left(killAt));
    while (mayRun(s) && this.clock.now() < killAt) {
      await this.clock.sleep(Math.min(STOP_POLL_MS, Math.max(0, killAt - this.clock.now())));
      s = await control.state(this.left(killAt));
    }
    // stopped by the manager: confirmed gone only with nothing left in the service (its cgroup)
    if (!mayRun(s) && (await this.gone(deadline)).gone) {
      control.stopped?.();
      return;
    }
    log.warn({ service: control.describe, state: s.detail }, 'service did not stop in time: killing it');
    await this.killNow(deadline);
  }

  private async gone(deadline: number): Promise<{ gone: boolean; detail: string }> {
    const { control } = this.props;
    if (control.gone) return control.gone(this.left(deadline));
    const s = await control.state(this.left(deadline));
    return { gone: !mayRun(s), detail: s.detail };
  }

  kill(deadline: number): Promise<void> {
    this.starts.abort();
    this.starts = new AbortController();
    this.generation++;
    return this.ops.preempt(() => this.killNow(deadline));
  }

  /** Kills at once; until confirmed gone, kills again (what the manager spawned meanwhile, e.g. `ExecStop=`). */
  private async killNow(deadline: number): Promise<void> {
    const { control, log } = this.props;
    const kill = () => control.kill(this.left(deadline)).catch((e: unknown) => log.error({ service: control.describe, err: String(e) }, 'kill failed'));
    const launching = this.launching;
    await kill();
    // a start call that was under way: its job may reach the manager after the kill's stop; kill after it
    if (launching) {
      await launching;
      await kill();
    }
    for (;;) {
      const g = await this.gone(deadline);
      if (g.gone) break;
      if (this.clock.now() >= deadline) throw new Error(`service ${control.describe} is not known to be gone at the deadline (${g.detail})`);
      await this.clock.sleep(Math.min(KILL_POLL_MS, Math.max(0, deadline - this.clock.now())));
      await kill();
    }
    this.props.control.stopped?.();
    log.info({ service: control.describe }, 'app killed');
  }

  async ready(): Promise<boolean> {
    if ((await this.props.control.state()).state !== 'running') return false;
    return this.props.ready ? probeReady(this.props.ready) : true;
  }
}
