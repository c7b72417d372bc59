import { execFile } from 'child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { systemClock, type Clock } from './clock';
import type { Log } from './log';
import { probeReady } from './readiness';
import { OperationQueue, type Supervisor } from './supervisor';

/** Runs a command; resolves with its exit code and output (never rejects: a spawn error or timeout is code -1). */
export type RunCommand = (file: string, args: readonly string[], timeoutMs: number) => Promise<{ code: number; stdout: string }>;

export const runCommand: RunCommand = (file, args, timeoutMs) =>
  new Promise((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs, killSignal: 'SIGKILL', windowsHide: true }, (err, stdout) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout) });
    });
  });

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
}

/** How one service manager starts, stops and inspects a service. */
export interface ServiceControl {
  readonly describe: string;
  /** Starts the service with the per-start environment (throws when the manager refuses). */
  start(env: Readonly<Record<string, string>>): Promise<void>;
  /** Asks the service to stop (may return before it has); throws when the manager refuses. */
  stop(): Promise<void>;
  /** Never throws: errors and timeouts are `unknown`. */
  state(): Promise<ServiceState>;
  /** Last resort after the stop timeout. */
  kill(): Promise<void>;
  /** Called once a stop is confirmed (systemd: removes the per-start environment file). @default - nothing */
  stopped?(): void;
}

export interface ServiceSupervisorProps {
  readonly control: ServiceControl;
  readonly ready?: string;
  readonly stopTimeoutSecs: number;
  readonly log: Log;
  /** Monotonic clock for the stop deadline and the exit watch. @default systemClock */
  readonly clock?: Clock;
  /** How often a started service's state is checked to notice its exit (R). @default 1000 */
  readonly watchMs?: number;
}

/** How often a stopping service is checked. */
const STOP_POLL_MS = 200;
/** After the kill, how long the manager may take to report the service gone before the stop fails. */
const KILL_CONFIRM_MS = 5000;

/** Fail closed: a process may live in every state but a confirmed stop or failure. */
export const mayRun = (s: ServiceState): boolean => s.state === 'running' || s.state === 'unknown';

/**
 * `systemd` and `windows-service` modes: the OS service manager runs the app; the guard starts,
 * stops, probes and watches it. Supervision fails closed: a stop is done only when the manager
 * reports the service stopped; unknown states, errors and timeouts count as running, and the
 * service is killed when the stop timeout (monotonic) passes. An exit or failure of a started
 * service is reported through {@link onExit} within one watch period, like exec mode.
 */
export class ServiceSupervisor implements Supervisor {
  private readonly ops = new OperationQueue();
  private readonly clock: Clock;
  private listener?: (detail: string) => void;
  /** Bumped by every start and stop: a watch loop of an earlier start ends quietly. */
  private generation = 0;

  constructor(private readonly props: ServiceSupervisorProps) {
    this.clock = props.clock ?? systemClock;
  }

  onExit(listener: (detail: string) => void): void {
    this.listener = listener;
  }

  cleanup(): Promise<void> {
    return this.stop();
  }

  start(env: Readonly<Record<string, string>>): Promise<void> {
    return this.ops.run(async () => {
      const { control, log } = this.props;
      const before = await control.state();
      await control.start(env);
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

  stop(): Promise<void> {
    return this.ops.run(() => this.stopNow());
  }

  private async stopNow(): Promise<void> {
    const { control, stopTimeoutSecs, log } = this.props;
    this.generation++;
    const deadline = this.clock.now() + stopTimeoutSecs * 1000;
    try {
      await control.stop();
    } catch (e) {
      log.warn({ service: control.describe, err: String(e) }, 'stop request failed; waiting, then killing');
    }
    let s = await control.state();
    while (mayRun(s) && this.clock.now() < deadline) {
      await this.clock.sleep(Math.min(STOP_POLL_MS, Math.max(0, deadline - this.clock.now())));
      s = await control.state();
    }
    if (mayRun(s)) {
      log.warn({ service: control.describe, state: s.detail }, 'service did not stop in time: killing it');
      try {
        await control.kill();
      } catch (e) {
        log.error({ service: control.describe, err: String(e) }, 'kill failed');
      }
      const killDeadline = this.clock.now() + KILL_CONFIRM_MS;
      s = await control.state();
      while (mayRun(s) && this.clock.now() < killDeadline) {
        await this.clock.sleep(STOP_POLL_MS);
        s = await control.state();
      }
      if (mayRun(s)) throw new Error(`service ${control.describe} is not known to be stopped (${s.detail})`);
    }
    control.stopped?.();
  }

  async ready(): Promise<boolean> {
    if ((await this.props.control.state()).state !== 'running') return false;
    return this.props.ready ? probeReady(this.props.ready) : true;
  }
}

/** Where the per-start environment files live (root only); the boot script's app drop-in reads them there. */
export const DEFAULT_ENV_DIR = '/run/failover-guard';

/** The per-start environment file of a unit: the app unit's drop-in reads it with `EnvironmentFile=`. */
export function unitEnvFile(unit: string, envDir = DEFAULT_ENV_DIR): string {
  return join(envDir, `${unit}.env`);
}

/** `KEY="value"` lines as systemd's EnvironmentFile= reads them (no expansion; `\` and `"` escaped). */
export function environmentFileText(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`environment variable name "${k}" is not valid`);
      if (/[\r\n\0]/.test(v)) throw new Error(`environment variable ${k} contains a line break`);
      return `${k}="${v.replace(/[\\"]/g, (c) => `\\${c}`)}"\n`;
    })
    .join('');
}

/** Parses `systemctl show` output (`Key=Value` lines). */
export function systemdState(stdout: string): ServiceState {
  const props = new Map(
    stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()] as [string, string]),
  );
  const active = props.get('ActiveState');
  const sub = props.get('SubState') ?? '';
  const detail = `${active ?? '?'}/${sub || '?'} pid ${props.get('MainPID') ?? '?'}`;
  const startMark = props.get('ExecMainStartTimestampMonotonic');
  // A unit with a live main process is running whatever the state name says.
  const mainPid = Number(props.get('MainPID') ?? 'NaN');
  if (active === 'inactive' && mainPid === 0) return { state: 'stopped', startMark, detail };
  if (active === 'failed' && mainPid === 0) return { state: 'failed', startMark, detail };
  if (active === 'active' || active === 'activating' || active === 'deactivating' || active === 'reloading' || active === 'inactive' || active === 'failed') {
    return { state: 'running', startMark, detail };
  }
  return { state: 'unknown', startMark, detail };
}

export interface SystemdControlOptions {
  readonly run?: RunCommand;
  /** Timeout of one systemctl call. @default 5 s */
  readonly commandTimeoutMs?: number;
  /** @default {@link DEFAULT_ENV_DIR} */
  readonly envDir?: string;
}

/**
 * systemctl. The term reaches the app per start through `/run/failover-guard/<unit>.env`
 * (mode 0600, written before every start, removed after a confirmed stop); the app unit's
 * drop-in has `EnvironmentFile=/run/failover-guard/<unit>.env` (no `-`: without the file the app
 * cannot start). Never `systemctl set-environment`: that is global and outlives the start, so a
 * restart through `PartOf=` would pick up a stale term.
 */
export function systemdControl(unit: string, opts: SystemdControlOptions = {}): ServiceControl {
  const run = opts.run ?? runCommand;
  const timeoutMs = opts.commandTimeoutMs ?? 5000;
  const envDir = opts.envDir ?? DEFAULT_ENV_DIR;
  const envFile = unitEnvFile(unit, envDir);
  const ctl = (args: string[]) => run('systemctl', args, timeoutMs);
  return {
    describe: unit,
    start: async (env) => {
      mkdirSync(envDir, { recursive: true, mode: 0o700 });
      const tmp = `${envFile}.tmp`;
      writeFileSync(tmp, environmentFileText(env), { mode: 0o600 });
      renameSync(tmp, envFile);
      // A failed unit keeps its state until reset: clear it so a later `failed` is this start's.
      await ctl(['reset-failed', unit]);
      const r = await ctl(['start', '--no-block', unit]);
      if (r.code !== 0) throw new Error(`systemctl start ${unit} failed (exit ${r.code})`);
    },
    stop: async () => {
      const r = await ctl(['stop', '--no-block', unit]);
      if (r.code !== 0) throw new Error(`systemctl stop ${unit} failed (exit ${r.code})`);
    },
    state: async () => {
      const r = await ctl(['show', '-p', 'ActiveState,SubState,MainPID,ExecMainStartTimestampMonotonic', unit]);
      if (r.code !== 0) return { state: 'unknown', detail: `systemctl show exit ${r.code}` };
      return systemdState(r.stdout);
    },
    kill: async () => {
      const r = await ctl(['kill', '--signal=SIGKILL', unit]);
      if (r.code !== 0) throw new Error(`systemctl kill ${unit} failed (exit ${r.code})`);
    },
    stopped: () => rmSync(envFile, { force: true }),
  };
}

/** sc.exe `query` output: `STATE : 4 RUNNING` (1 stopped, 2 start pending, 3 stop pending, 4 running, 5–7 continue/pause). */
export function windowsState(code: number, stdout: string): ServiceState {
  if (code !== 0) return { state: 'unknown', detail: `sc.exe query exit ${code}` };
  const state = /STATE\s*:\s*(\d+)/.exec(stdout)?.[1];
  if (state === undefined) return { state: 'unknown', detail: 'sc.exe query: no STATE' };
  if (state !== '1') return { state: 'running', detail: `state ${state}` };
  // WIN32_EXIT_CODE ≠ 0 after a stop that was not asked for: the service failed.
  const exit = /WIN32_EXIT_CODE\s*:\s*(\d+)/.exec(stdout)?.[1];
  const serviceExit = /SERVICE_EXIT_CODE\s*:\s*(\d+)/.exec(stdout)?.[1];
  const failed = (exit !== undefined && exit !== '0' && exit !== '1077') || (serviceExit !== undefined && serviceExit !== '0');
  return { state: failed ? 'failed' : 'stopped', detail: `stopped (exit ${exit ?? '?'}/${serviceExit ?? '?'})` };
}

/** sc.exe. */
export function windowsServiceControl(name: string, run: RunCommand = runCommand, commandTimeoutMs = 5000): ServiceControl {
  const sc = (args: string[]) => run('sc.exe', args, commandTimeoutMs);
  return {
    describe: name,
    start: async () => {
      const r = await sc(['start', name]);
      // 1056: already running
      if (r.code !== 0 && r.code !== 1056) throw new Error(`sc.exe start ${name} failed (exit ${r.code})`);
    },
    stop: async () => {
      const r = await sc(['stop', name]);
      // 1062: not started
      if (r.code !== 0 && r.code !== 1062) throw new Error(`sc.exe stop ${name} failed (exit ${r.code})`);
    },
    state: async () => {
      const r = await sc(['query', name]);
      return windowsState(r.code, r.stdout);
    },
    kill: async () => {
      const r = await run('taskkill.exe', ['/F', '/FI', `SERVICES eq ${name}`], commandTimeoutMs);
      if (r.code !== 0) throw new Error(`taskkill ${name} failed (exit ${r.code})`);
    },
  };
}
