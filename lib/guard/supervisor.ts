import { spawn, type ChildProcess, type SpawnOptions } from 'child_process';
import { probeReady } from './readiness';

/** Starts, stops and probes the application a guard keeps active on one node. */
export interface Supervisor {
  /** Makes sure no app left over from an earlier guard run is still running. */
  cleanup(): Promise<void>;
  /** Starts the app with extra environment (the term, the node). */
  start(env: Readonly<Record<string, string>>): Promise<void>;
  /** Stops the app; resolves once it is gone (forcefully after the stop timeout). */
  stop(): Promise<void>;
  /** Whether the app is ready to serve (readiness URL, else: it runs). */
  ready(): Promise<boolean>;
  /** Called when the app ends by itself (not through {@link stop}). */
  onExit(listener: (detail: string) => void): void;
}

/**
 * Runs start/stop operations one after another, in call order: a stop issued after a start
 * always takes effect after that start (never before it, never skipped), and a start issued
 * while a stop runs waits for the stop.
 */
export class OperationQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op, op);
    this.tail = result.catch(() => undefined);
    return result;
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
 * Both `exec` supervisors (POSIX and Windows) start their app through it.
 */
export async function spawnStarted(file: string, args: readonly string[], options: SpawnOptions): Promise<StartedProcess> {
  const child = spawn(file, args, options);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return { child, exited };
}

/** Waits for `exited` at most `timeoutSecs`: true when it came in time (the stop timeout's test). */
export async function exitedWithin(exited: Promise<void>, timeoutSecs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutSecs * 1000)));
  try {
    return await Promise.race([exited.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What {@link Supervisor.onExit} listeners are told: `exited with code 3`, `exited with SIGKILL`. */
export function exitDetail(code: number | null, signal: NodeJS.Signals | null): string {
  return `exited with ${signal ?? `code ${code}`}`;
}

/**
 * What both `exec` supervisors (POSIX and Windows) share: one app process at a time, start, stop
 * and cleanup in one queue, the app's own end reported once to the {@link Supervisor.onExit}
 * listener (never an end the guard asked for), readiness from `service.ready`. Subclasses say
 * how to launch, end and clean up after the process on their platform.
 */
export abstract class ProcessSupervisor implements Supervisor {
  private app?: StartedProcess;
  private stopping = false;
  private listener?: (detail: string) => void;
  private readonly ops = new OperationQueue();

  /** @param readyUrl `service.ready`; undefined: running = ready */
  constructor(private readonly readyUrl: string | undefined) {}

  /** Starts the app's process (through {@link spawnStarted}) with what must go with it. */
  protected abstract launch(env: Readonly<Record<string, string>>): Promise<StartedProcess>;
  /** Ends the app the guard asked to stop; resolves once it is gone. */
  protected abstract terminate(app: StartedProcess): Promise<void>;
  /** After the app ended by itself: removes whatever it may have left behind. */
  protected abstract ended(app: StartedProcess): void;
  abstract cleanup(): Promise<void>;

  /** Runs `op` in the start/stop queue (a cleanup never overlaps a start). */
  protected queued<T>(op: () => Promise<T>): Promise<T> {
    return this.ops.run(op);
  }

  onExit(listener: (detail: string) => void): void {
    this.listener = listener;
  }

  start(env: Readonly<Record<string, string>>): Promise<void> {
    return this.ops.run(async () => {
      if (this.app) return;
      const app = await this.launch(env);
      this.app = app;
      this.stopping = false;
      app.child.once('exit', (code, signal) => {
        if (this.app === app) this.app = undefined;
        if (this.stopping) return;
        this.ended(app);
        this.listener?.(exitDetail(code, signal));
      });
    });
  }

  stop(): Promise<void> {
    return this.ops.run(async () => {
      const app = this.app;
      if (!app || !app.child.pid) return;
      this.stopping = true;
      await this.terminate(app);
      await app.exited;
      this.app = undefined;
    });
  }

  async ready(): Promise<boolean> {
    if (!this.app || this.stopping) return false;
    return this.readyUrl ? probeReady(this.readyUrl) : true;
  }
}
