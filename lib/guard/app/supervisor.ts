import { spawn, type ChildProcess, type SpawnOptions } from 'child_process';
import { probeReady } from './readiness';

/**
 * Starts, stops, kills and probes the application a guard keeps active on one node. Deadlines are
 * absolute instants on the monotonic clock (ms, as `performance.now()`, or the injected
 * {@link Clock}'s `now()`), derived by the caller from the last successful renew's send: no path
 * starts a fresh timeout of its own past them.
 */
export interface Supervisor {
  /** Makes sure no app left over from an earlier guard run is still running. */
  cleanup(): Promise<void>;
  /**
   * Starts the app with extra environment (the term, the node). Checks `signal` right before the
   * launch and between pre-launch steps: aborted → rejects with an AbortError and launches
   * nothing. Pre-launch steps are bounded.
   */
  start(env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void>;
  /**
   * Planned, graceful stop (only while the lease is still renewed): SIGTERM/ExecStop/service stop,
   * escalating to a kill so the app is confirmed gone no later than `deadline`. Rejects when gone
   * is not confirmed by then.
   */
  stop(deadline: number): Promise<void>;
  /**
   * Fence: kill at once (process group / unit cgroup / process tree), never gracefully; resolves
   * when confirmed gone (no member left), rejects with the reason when not confirmed by
   * `deadline`. Never waits behind a start, a stop or a hook: it aborts a start in progress and
   * preempts.
   */
  kill(deadline: number): Promise<void>;
  /**
   * The instant (last successful renew's send + D) until which the lease is proven: a backstop
   * outside the guard's event loop (exec: the watchdog shell) kills the app then, whatever the
   * guard does meanwhile, unless a later call moves it on. Optional: modes without one ignore it.
   */
  setValidUntil?(instant: number): void;
  /** Whether the app is ready to serve (readiness URL, else: it runs). */
  ready(): Promise<boolean>;
  /** Called when the app ends by itself (not through {@link stop} or {@link kill}). */
  onExit(listener: ExitListener): void;
}

/**
 * Told of an app's own end: `detail` for the log; `byBackstop` when the backstop outside the
 * guard killed it because the lease's valid-until passed (see {@link Supervisor.setValidUntil}):
 * that end is the fence, not an app failure, even when it reaches the guard before the guard's
 * own fence timer has run.
 */
export type ExitListener = (detail: string, byBackstop?: boolean) => void;

/** The rejection of a start that was aborted before it launched anything. */
export function abortError(what = 'start'): Error {
  return new DOMException(`${what} aborted: the app is being stopped`, 'AbortError');
}

/** Throws an AbortError when `signal` is aborted (the check between pre-launch steps). */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'start'): void {
  if (signal?.aborted) throw abortError(what);
}

/**
 * Runs start/stop operations one after another, in call order: a stop issued after a start
 * always takes effect after that start (never before it, never skipped), and a start issued
 * while a stop runs waits for the stop. A {@link preempt}ed operation (a kill) runs at once,
 * and every operation issued after it waits for it.
 */
export class OperationQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op, op);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Runs `op` now, not behind the queue; later operations wait for it and for the earlier ones. */
  preempt<T>(op: () => Promise<T>): Promise<T> {
    const result = op();
    const before = this.tail;
    this.tail = Promise.all([before, result.catch(() => undefined)]);
    return result;
  }
}

/** Rejects with `what` once the monotonic `deadline` (ms, `performance.now()`) passes; `cancel` ends the wait. */
export function untilDeadline(deadline: number, what: string): { expired: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), Math.max(0, deadline - performance.now()));
  });
  expired.catch(() => undefined);
  return { expired, cancel: () => clearTimeout(timer) };
}

/** `work`, or a rejection with `what` at the deadline (the work itself is left to end on its own). */
export async function byDeadline<T>(deadline: number, what: string, work: Promise<T>): Promise<T> {
  const d = untilDeadline(deadline, what);
  try {
    return await Promise.race([work, d.expired]);
  } finally {
    d.cancel();
  }
}

/** An app process that has started; `exited` resolves when it ends (it never rejects). */
export interface StartedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/**
 * Spawns the app's process and waits until it runs. Rejects when the OS could not start it
 * (missing shell, EACCES), so the caller reports a failed start and keeps no dead child.
 * Both `exec` supervisors (POSIX and Windows) start their app through it. An aborted `signal`
 * (checked right before the spawn) rejects with an AbortError and spawns nothing.
 */
export async function spawnStarted(file: string, args: readonly string[], options: SpawnOptions, signal?: AbortSignal): Promise<StartedProcess> {
  throwIfAborted(signal);
  const child = spawn(file, args, options);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return { child, exited };
}

/** Waits for `exited` until the monotonic `deadline`: true when it came in time. */
export async function exitedBy(exited: Promise<void>, deadline: number): Promise<boolean> {
  return byDeadline(deadline, 'deadline', exited.then(() => true)).catch(() => false);
}

/** What {@link Supervisor.onExit} listeners are told: `exited with code 3`, `exited with SIGKILL`. */
export function exitDetail(code: number | null, signal: NodeJS.Signals | null): string {
  return `exited with ${signal ?? `code ${code}`}`;
}

/**
 * What both `exec` supervisors (POSIX and Windows) share: one app process at a time, start, stop
 * and cleanup in one queue, a kill that preempts it (aborting a start in progress), the app's
 * own end reported once to the {@link Supervisor.onExit} listener (never an end the guard asked
 * for), readiness from `service.ready`. Subclasses say how to launch, end, kill and clean up
 * after the process on their platform.
 */
export abstract class ProcessSupervisor implements Supervisor {
  private app?: StartedProcess;
  /** Apps the guard asked to end (their exit is not reported). */
  private readonly ending = new WeakSet<StartedProcess>();
  /**
   * Apps asked to end and not yet confirmed gone (a member in uninterruptible sleep outlives the
   * main process): every later stop and kill confirms them again, and no start launches meanwhile.
   */
  private readonly unconfirmed = new Set<StartedProcess>();
  private listener?: ExitListener;
  private readonly ops = new OperationQueue();
  /** Aborted by every kill: starts issued before it launch nothing. */
  private starts = new AbortController();
  /** The spawn in progress, so a kill that comes meanwhile reaches the process it spawns. */
  private launching?: Promise<StartedProcess | undefined>;

  /** @param readyUrl `service.ready`; undefined: running = ready */
  constructor(private readonly readyUrl: string | undefined) {}

  /**
   * Starts the app's process (through {@link spawnStarted}) with what must go with it; checks
   * `signal` right before the spawn.
   */
  protected abstract launch(env: Readonly<Record<string, string>>, signal: AbortSignal): Promise<StartedProcess>;
  /** Ends the app gracefully, escalating to a kill; resolves once it is confirmed gone, rejects when not by `deadline`. */
  protected abstract terminate(app: StartedProcess, deadline: number): Promise<void>;
  /** Kills the app at once (every process it started); resolves once confirmed gone, rejects when not by `deadline`. */
  protected abstract killNow(app: StartedProcess, deadline: number): Promise<void>;
  /**
   * After the app ended by itself: removes whatever it may have left behind. Returns why the
   * backstop outside the guard killed it, when it did.
   */
  protected abstract ended(app: StartedProcess): string | undefined;
  abstract cleanup(): Promise<void>;

  /** Runs `op` in the start/stop queue (a cleanup never overlaps a start). */
  protected queued<T>(op: () => Promise<T>): Promise<T> {
    return this.ops.run(op);
  }

  onExit(listener: ExitListener): void {
    this.listener = listener;
  }

  start(env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    const aborted = signal ? AbortSignal.any([signal, this.starts.signal]) : this.starts.signal;
    return this.ops.run(async () => {
      throwIfAborted(aborted);
      if (this.app) return;
      for (const old of this.unconfirmed) await this.end(old, performance.now(), 'kill');
      const launching = this.launch(env, aborted);
      this.launching = launching.catch(() => undefined);
      let app: StartedProcess;
      try {
        app = await launching;
      } finally {
        this.launching = undefined;
      }
      if (aborted.aborted) {
        // the kill that aborted this start has already reached the process (see kill)
        this.ending.add(app);
        throw abortError();
      }
      this.app = app;
      app.child.once('exit', (code, signal) => {
        if (this.app === app) this.app = undefined;
        if (this.ending.has(app)) return;
        const backstop = this.ended(app);
        this.listener?.(backstop ? `${exitDetail(code, signal)}: killed by the watchdog (${backstop})` : exitDetail(code, signal), backstop !== undefined);
      });
    });
  }

  stop(deadline: number): Promise<void> {
    return this.ops.run(async () => {
      const app = this.app;
      const apps = [...this.unconfirmed].filter((a) => a !== app);
      await Promise.all([...(app?.child.pid ? [this.end(app, deadline, 'stop')] : []), ...apps.map((a) => this.end(a, deadline, 'kill'))]);
    });
  }

  kill(deadline: number): Promise<void> {
    this.starts.abort();
    this.starts = new AbortController();
    const launching = this.launching;
    return this.ops.preempt(async () => {
      const spawned = launching && (await byDeadline(deadline, 'the app being started was not spawned by the deadline', launching));
      const apps = [...new Set([this.app, spawned, ...this.unconfirmed])].filter((a): a is StartedProcess => !!a?.child.pid);
      await Promise.all(apps.map((app) => this.end(app, deadline, 'kill')));
    });
  }

  /** Stops or kills `app`; it stays unconfirmed until that resolves. */
  private async end(app: StartedProcess, deadline: number, how: 'stop' | 'kill'): Promise<void> {
    this.ending.add(app);
    this.unconfirmed.add(app);
    await (how === 'stop' ? this.terminate(app, deadline) : this.killNow(app, deadline));
    this.unconfirmed.delete(app);
    if (this.app === app) this.app = undefined;
  }

  async ready(): Promise<boolean> {
    if (!this.app || this.ending.has(this.app)) return false;
    return this.readyUrl ? probeReady(this.readyUrl) : true;
  }
}
