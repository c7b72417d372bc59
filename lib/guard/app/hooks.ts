import type { AppHook } from '../../spec/profile';
import { writePapercutDatabaseConfig } from './app-config';
import { appTableCount, ensureAppDatabase, runOnceUnderLease } from './app-database';
import { holderId } from '../lease/holder-identity';
import type { Log } from '../log';
import type { AppHookConfig } from './hook-config';
import type { SessionTarget } from '../lease/sql-session';
import { urlIdentity } from '../lease/sql-session';
import { runCommand, throwIfFailed } from './run-command';
import type { ExitListener, Supervisor } from './supervisor';

/** What the hooks read besides their own definition. */
export interface HookRunnerProps {
  readonly cluster: string;
  readonly node: string;
  /** This guard process's instance id (the lease store's): steps run under this process's lease only. */
  readonly instance: string;
  readonly app: AppHookConfig;
  /** The guard's own database (master user), for `app-database` and the `schema-init` marker. */
  readonly masterUrl?: string;
  readonly masterPassword: () => Promise<string | undefined>;
  /** The app secret, read anew for every start. */
  readonly appPassword: () => Promise<string | undefined>;
  readonly log: Log;
  /** Statement timeout of the hooks' own database sessions. @default 10 */
  readonly queryTimeoutSecs?: number;
}

/** One start's context: the FAILOVER_GUARD_* environment (term, node, cluster) and a kill switch. */
export interface HookRun {
  readonly env: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** Monotonic ms by which the whole start (hooks included) must be done. */
  readonly deadline: number;
}

const now = (): number => performance.now();
/** A failed after-ready phase is tried again after this long (until the startup timeout). */
const AFTER_READY_RETRY_MS = 2000;

/** `{{network-address}}` and friends in argv. */
export function expandArgv(argv: readonly string[], values: Readonly<Record<string, string | undefined>>): string[] {
  return argv.map((a) =>
    a.replace(/\{\{([a-z-]+)\}\}/g, (whole, name: string) => {
      const v = values[name];
      if (v === undefined) throw new Error(`${whole} has no value (set app.${name})`);
      return v;
    }),
  );
}

/** Rejects after `ms` (or on abort); the work itself is left to finish or fail on its own timeouts. */
function within<T>(ms: number, signal: AbortSignal, what: string, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: timed out after ${Math.round(ms / 1000)} s`)), Math.max(0, ms));
    const onAbort = () => reject(new Error(`${what}: aborted: the app is being stopped`));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/**
 * Runs the profile's hooks for one phase, in order; each is logged with its duration, limited
 * by its own timeout and by what is left of the startup timeout. The first failure stops the
 * phase (the start then fails and the elector releases the lease).
 */
export class HookRunner {
  constructor(private readonly props: HookRunnerProps) {}

  async runPhase(phase: 'before-start' | 'after-ready', hooks: readonly AppHook[], run: HookRun): Promise<void> {
    for (const hook of hooks) {
      const left = run.deadline - now();
      const timeoutMs = Math.min(hook.timeoutSecs * 1000, left);
      const fields = { hook: hook.name, kind: hook.kind, phase, term: Number(run.env.FAILOVER_GUARD_TERM ?? 0) };
      if (timeoutMs <= 0) throw new Error(`hook ${hook.name}: the startup timeout is used up`);
      if (run.signal.aborted) throw new Error(`hook ${hook.name}: aborted: the app is being stopped`);
      this.props.log.info(fields, `hook ${hook.name} started`);
      const t0 = now();
      try {
        const detail = await this.runOne(hook, run, timeoutMs);
        this.props.log.info({ ...fields, ms: Math.round(now() - t0), detail }, `hook ${hook.name} done`);
      } catch (e) {
        this.props.log.error({ ...fields, ms: Math.round(now() - t0), err: String(e) }, `hook ${hook.name} failed`);
        throw new Error(`hook ${hook.name} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private async sessions(): Promise<{ master: SessionTarget; app: SessionTarget }> {
    const { app, masterUrl, node, queryTimeoutSecs } = this.props;
    if (!app.database) throw new Error('app.database.url is not set');
    if (!masterUrl) throw new Error('database.url is not set');
    const application = `failover-guard ${node} hook`;
    const [masterPassword, appPassword] = await Promise.all([this.props.masterPassword(), this.props.appPassword()]);
    return {
      master: { url: masterUrl, password: masterPassword, application, timeoutSecs: queryTimeoutSecs },
      app: { url: app.database.url, password: appPassword, application, timeoutSecs: queryTimeoutSecs },
    };
  }

  private async runOne(hook: AppHook, run: HookRun, timeoutMs: number): Promise<string> {
    const what = `hook ${hook.name}`;
    switch (hook.kind) {
      case 'command': {
        const argv = expandArgv(hook.argv, { 'network-address': this.props.app.networkAddress });
        throwIfFailed(await runCommand(argv, { env: { ...run.env }, timeoutMs, signal: run.signal, user: hook.user }));
        return 'exit 0';
      }
      case 'app-database': {
        const changes = await within(timeoutMs, run.signal, what, this.sessions().then((s) => ensureAppDatabase(s)));
        return changes.length ? changes.join(', ') : 'unchanged';
      }
      case 'papercut-database-properties': {
        const written = await within(
          timeoutMs,
          run.signal,
          what,
          (async () => {
            const password = await this.props.appPassword();
            if (!password) throw new Error('the app password secret is empty');
            return writePapercutDatabaseConfig(hook.file, this.props.app.database!.url, password);
          })(),
        );
        return written ? `wrote database.* in ${hook.file}` : `database.* already current in ${hook.file}`;
      }
      case 'schema-init': {
        const term = Number(run.env.FAILOVER_GUARD_TERM);
        if (!Number.isInteger(term) || term < 1) throw new Error('needs the lease (high-availability-guard.enabled=Y)');
        const s = await within(timeoutMs, run.signal, what, this.sessions());
        const argv = expandArgv(hook.argv, { 'network-address': this.props.app.networkAddress });
        const step = { cluster: this.props.cluster, node: this.props.node, holder: holderId(this.props.node, this.props.instance), term, step: `${hook.name}:${urlIdentity(s.app.url).database}` };
        const outcome = await runOnceUnderLease(
          s.master,
          step,
          async () => throwIfFailed(await runCommand(argv, { env: { ...run.env }, timeoutMs: run.deadline - now(), signal: run.signal, user: hook.user })),
          async () => {
            const n = await appTableCount(s.app);
            return n > 0 ? `the app database already has ${n} tables` : undefined;
          },
        );
        return outcome.ran ? `ran ${argv.join(' ')} (term ${term})` : `skipped: ${outcome.reason}`;
      }
    }
  }
}

export interface HookedSupervisorProps {
  readonly inner: Supervisor;
  readonly hooks: AppHookConfig;
  readonly runner: HookRunner;
  readonly log: Log;
  /** The hooks count against it, measured from the start. */
  readonly startupTimeoutSecs: number;
}

interface Attempt {
  readonly abort: AbortController;
  readonly deadline: number;
  readonly env: Readonly<Record<string, string>>;
  /** before-start hooks, then the app's own start. */
  starting: Promise<void>;
  started: boolean;
  failed: boolean;
  afterReady?: Promise<void>;
  afterReadyDone: boolean;
  /** After a failed after-ready run, not before this (monotonic ms). */
  retryAt: number;
}

/**
 * A {@link Supervisor} that runs the profile's hooks around the real one, so the elector needs
 * no change: `start()` returns at once and runs the before-start hooks, then the app's start, in
 * the background (the lease keeps being renewed meanwhile); a failure is reported like an app
 * exit, which releases the lease. `ready()` is true only once the app is ready **and** the
 * after-ready hooks have succeeded. `stop()` and `kill()` kill a running hook and stop or kill
 * the app in parallel: a hook can never hold up a stop.
 * The elector calls `start()` only on the lease holder, so hooks run on the active node only.
 */
export class HookedSupervisor implements Supervisor {
  private attempt?: Attempt;
  private listener?: ExitListener;

  constructor(private readonly props: HookedSupervisorProps) {
    props.inner.onExit((detail, byBackstop) => this.listener?.(detail, byBackstop));
  }

  onExit(listener: ExitListener): void {
    this.listener = listener;
  }

  cleanup(): Promise<void> {
    return this.props.inner.cleanup();
  }

  start(env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    const abort = new AbortController();
    signal?.addEventListener('abort', () => abort.abort(), { once: true });
    if (signal?.aborted) abort.abort();
    const a: Attempt = {
      abort,
      env,
      deadline: now() + this.props.startupTimeoutSecs * 1000,
      starting: Promise.resolve(),
      started: false,
      failed: false,
      afterReadyDone: this.props.hooks.afterReady.length === 0,
      retryAt: 0,
    };
    this.attempt = a;
    a.starting = (async () => {
      try {
        await this.props.runner.runPhase('before-start', this.props.hooks.beforeStart, { env, signal: abort.signal, deadline: a.deadline });
        if (abort.signal.aborted) return;
        await this.props.inner.start(env, abort.signal);
        a.started = true;
      } catch (e) {
        a.failed = true;
        if (!abort.signal.aborted) this.listener?.(`start failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    })();
    return Promise.resolve();
  }

  async ready(): Promise<boolean> {
    const a = this.attempt;
    if (!a || !a.started || a.failed || a.abort.signal.aborted) return false;
    if (!(await this.props.inner.ready())) return false;
    if (a.afterReadyDone) return true;
    // run (or retry) the after-ready hooks in the background; report ready once they succeed
    if (a.afterReady || now() < a.retryAt) return false;
    a.afterReady = this.props.runner
      .runPhase('after-ready', this.props.hooks.afterReady, { env: a.env, signal: a.abort.signal, deadline: a.deadline })
      .then(
        () => void (a.afterReadyDone = true),
        () => {
          a.afterReady = undefined;
          a.retryAt = now() + AFTER_READY_RETRY_MS;
        },
      );
    return false;
  }

  setValidUntil(instant: number): void {
    this.props.inner.setValidUntil?.(instant);
  }

  /**
   * Aborts the start: a running hook's process group is killed at once and a start not yet
   * launched launches nothing. Never waits for the hook: the app is stopped meanwhile.
   */
  private abortStart(): void {
    this.attempt?.abort.abort();
  }

  async stop(deadline: number): Promise<void> {
    this.abortStart();
    await this.props.inner.stop(deadline);
  }

  async kill(deadline: number): Promise<void> {
    this.abortStart();
    await this.props.inner.kill(deadline);
  }
}

/** Wraps `inner` when the config has hooks; otherwise returns it unchanged. */
export function withHooks(inner: Supervisor, props: Omit<HookedSupervisorProps, 'inner' | 'runner'> & { runner: () => HookRunner }): Supervisor {
  if (props.hooks.beforeStart.length === 0 && props.hooks.afterReady.length === 0) return inner;
  return new HookedSupervisor({ ...props, inner, runner: props.runner() });
}
