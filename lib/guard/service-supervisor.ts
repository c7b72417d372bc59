import { execFile } from 'child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { systemClock, type Clock } from './clock';
import type { Log } from './log';
import { probeReady } from './readiness';
import { abortError, OperationQueue, throwIfAborted, type Supervisor } from './supervisor';

/** Runs a command; resolves with its exit code and output (never rejects: a spawn error or timeout is code -1). */
export type RunCommand = (file: string, args: readonly string[], timeoutMs: number) => Promise<{ code: number; stdout: string }>;

export const runCommand: RunCommand = (file, args, timeoutMs) =>
  new Promise((resolve) => {
    // execFile takes whole milliseconds only (a deadline's remainder is fractional: it would throw)
    execFile(file, [...args], { timeout: Math.max(1, Math.ceil(timeoutMs)), killSignal: 'SIGKILL', windowsHide: true }, (err, stdout) => {
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
  /** How long before a stop's deadline the graceful stop turns into a kill (the kill-confirm bound K). @default 1000 */
  readonly killReserveMs?: number;
  readonly log: Log;
  /** Monotonic clock for the deadlines and the exit watch. @default systemClock */
  readonly clock?: Clock;
  /** How often a started service's state is checked to notice its exit (R). @default 1000 */
  readonly watchMs?: number;
}

/** How often a stopping service is checked. */
const STOP_POLL_MS = 200;
/** How often a killed service is checked (each check is one manager call). */
const KILL_POLL_MS = 20;

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
  private listener?: (detail: string) => void;
  /** Bumped by every start, stop and kill: a watch loop of an earlier start ends quietly. */
  private generation = 0;
  /** Aborted by every kill: starts issued before it launch nothing. */
  private starts = new AbortController();
  /** The manager's start call in flight: a kill meanwhile kills again once it returns (its job may come after the kill's). */
  private launching?: Promise<unknown>;

  constructor(private readonly props: ServiceSupervisorProps) {
    this.clock = props.clock ?? systemClock;
  }

  onExit(listener: (detail: string) => void): void {
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
    const killAt = deadline - (this.props.killReserveMs ?? 1000);
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

/** A slice's cgroup path: `a-b.slice` → `/a.slice/a-b.slice`; the root slice `-.slice` → ``. */
export function sliceCgroup(slice: string): string {
  if (!slice || slice === '-.slice') return '';
  const parts = slice.replace(/\.slice$/, '').split('-');
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('-')}.slice`).join('');
}

/** Parses `systemctl show` output (`Key=Value` lines). */
export function systemdState(stdout: string, unit?: string): ServiceState {
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
  // an inactive unit has no ControlGroup; its cgroup, when it has one again, is below its slice
  const slice = props.get('Slice');
  const cgroup = props.get('ControlGroup') || (slice && unit ? `${sliceCgroup(slice)}/${unit}` : undefined);
  const base = { startMark, detail, ...(cgroup ? { cgroup } : {}) };
  // A unit with a live main process is running whatever the state name says.
  const mainPid = Number(props.get('MainPID') ?? 'NaN');
  if (active === 'inactive' && mainPid === 0) return { state: 'stopped', ...base };
  if (active === 'failed' && mainPid === 0) return { state: 'failed', ...base };
  if (active === 'active' || active === 'activating' || active === 'deactivating' || active === 'reloading' || active === 'inactive' || active === 'failed') {
    return { state: 'running', ...base };
  }
  return { state: 'unknown', ...base };
}

/**
 * Where a unit's cgroup is seen on this machine: cgroup v2 (`cgroup.events`, `cgroup.kill`), the
 * v2 half of a hybrid layout (`unified/`), or v1's systemd hierarchy (`cgroup.procs` only).
 */
function cgroupLayout(root: string): { base: string; v2: boolean } | undefined {
  if (existsSync(join(root, 'cgroup.controllers'))) return { base: root, v2: true };
  if (existsSync(join(root, 'unified', 'cgroup.controllers'))) return { base: join(root, 'unified'), v2: true };
  if (existsSync(join(root, 'systemd'))) return { base: join(root, 'systemd'), v2: false };
  return undefined;
}

/** Whether a cgroup has processes: true/false, undefined when this machine cannot tell. A removed cgroup is empty. */
export function cgroupPopulated(root: string, cgroup: string): boolean | undefined {
  const layout = cgroupLayout(root);
  if (!layout) return undefined;
  const dir = join(layout.base, cgroup);
  try {
    if (layout.v2) return !/^populated 0$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() !== '';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    return undefined;
  }
}

/** Kills every process of a cgroup at once through `cgroup.kill` (cgroup v2, Linux ≥ 5.14); false where that is not possible. */
export function killCgroup(root: string, cgroup: string): boolean {
  const layout = cgroupLayout(root);
  if (!layout?.v2 || !cgroup) return false;
  try {
    writeFileSync(join(layout.base, cgroup, 'cgroup.kill'), '1');
    return true;
  } catch {
    return false;
  }
}

export interface SystemdControlOptions {
  readonly run?: RunCommand;
  /** Timeout of one systemctl call (shortened to what is left until a caller's deadline). @default 5 s */
  readonly commandTimeoutMs?: number;
  /** @default {@link DEFAULT_ENV_DIR} */
  readonly envDir?: string;
  /** Where the cgroup file system is mounted. @default /sys/fs/cgroup */
  readonly cgroupRoot?: string;
}

/**
 * systemctl. The term reaches the app per start through `/run/failover-guard/<unit>.env`
 * (mode 0600, written before every start, removed after a confirmed stop); the app unit's
 * drop-in has `EnvironmentFile=/run/failover-guard/<unit>.env` (no `-`: without the file the app
 * cannot start). Never `systemctl set-environment`: that is global and outlives the start, so a
 * restart through `PartOf=` would pick up a stale term.
 *
 * Kill: `cgroup.kill` on the unit's cgroup (v2: every process in it at once, whatever its
 * session or process group, a double fork included), beside `systemctl kill --kill-whom=all
 * --signal=SIGKILL` (v1, or a cgroup not known yet) and `systemctl stop --no-block` (so systemd
 * neither restarts the unit nor keeps it active), all in parallel. Gone: the unit inactive or
 * failed and its cgroup empty (`populated 0`, or removed).
 */
export function systemdControl(unit: string, opts: SystemdControlOptions = {}): ServiceControl {
  const run = opts.run ?? runCommand;
  const timeoutMs = opts.commandTimeoutMs ?? 5000;
  const envDir = opts.envDir ?? DEFAULT_ENV_DIR;
  const cgroupRoot = opts.cgroupRoot ?? '/sys/fs/cgroup';
  const envFile = unitEnvFile(unit, envDir);
  /** The unit's cgroup as systemd last named it. */
  let cgroup: string | undefined;
  const ctl = (args: string[], limitMs = timeoutMs) => run('systemctl', args, Math.max(1, Math.min(timeoutMs, limitMs)));
  const state = async (limitMs?: number): Promise<ServiceState> => {
    const r = await ctl(['show', '-p', 'ActiveState,SubState,MainPID,ExecMainStartTimestampMonotonic,ControlGroup,Slice', unit], limitMs);
    if (r.code !== 0) return { state: 'unknown', detail: `systemctl show exit ${r.code}` };
    const s = systemdState(r.stdout, unit);
    cgroup = s.cgroup ?? cgroup;
    return s;
  };
  return {
    describe: unit,
    prepare: async (env, signal) => {
      mkdirSync(envDir, { recursive: true, mode: 0o700 });
      const tmp = `${envFile}.tmp`;
      writeFileSync(tmp, environmentFileText(env), { mode: 0o600 });
      renameSync(tmp, envFile);
      throwIfAborted(signal);
      // A failed unit keeps its state until reset: clear it so a later `failed` is this start's.
      await ctl(['reset-failed', unit]);
    },
    start: async () => {
      const r = await ctl(['start', '--no-block', unit]);
      if (r.code !== 0) throw new Error(`systemctl start ${unit} failed (exit ${r.code})`);
    },
    stop: async (limitMs) => {
      const r = await ctl(['stop', '--no-block', unit], limitMs);
      if (r.code !== 0) throw new Error(`systemctl stop ${unit} failed (exit ${r.code})`);
    },
    state,
    kill: async (limitMs) => {
      const viaCgroup = cgroup !== undefined && killCgroup(cgroupRoot, cgroup);
      const [k, st] = await Promise.all([ctl(['kill', '--signal=SIGKILL', '--kill-whom=all', unit], limitMs), ctl(['stop', '--no-block', unit], limitMs)]);
      if (!viaCgroup && k.code !== 0 && st.code !== 0) throw new Error(`systemctl kill ${unit} failed (exit ${k.code})`);
    },
    gone: async (limitMs) => {
      const s = await state(limitMs);
      const populated = cgroup === undefined ? undefined : cgroupPopulated(cgroupRoot, cgroup);
      const detail = `${s.detail}, cgroup ${cgroup ?? '?'} ${populated === undefined ? 'not readable' : populated ? 'populated' : 'empty'}`;
      // where the cgroup cannot be read, the manager's word alone decides (cgroup v1 without the systemd hierarchy)
      return { gone: !mayRun(s) && populated !== true && (populated === false || cgroupLayout(cgroupRoot) === undefined), detail };
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
  const bound = (limitMs = commandTimeoutMs) => Math.max(1, Math.min(commandTimeoutMs, limitMs));
  const sc = (args: string[], limitMs?: number) => run('sc.exe', args, bound(limitMs));
  return {
    describe: name,
    start: async () => {
      const r = await sc(['start', name]);
      // 1056: already running
      if (r.code !== 0 && r.code !== 1056) throw new Error(`sc.exe start ${name} failed (exit ${r.code})`);
    },
    stop: async (limitMs) => {
      const r = await sc(['stop', name], limitMs);
      // 1062: not started
      if (r.code !== 0 && r.code !== 1062) throw new Error(`sc.exe stop ${name} failed (exit ${r.code})`);
    },
    state: async (limitMs) => {
      const r = await sc(['query', name], limitMs);
      return windowsState(r.code, r.stdout);
    },
    // the service's process and every process it started (/T, by the pid `sc queryex` names),
    // beside the service filter (which finds the process without that round trip), at once
    kill: async (limitMs) => {
      const tree = async () => {
        const q = await sc(['queryex', name], limitMs);
        const pid = Number(/PID\s*:\s*(\d+)/.exec(q.stdout)?.[1] ?? 0);
        return pid > 0 ? (await run('taskkill.exe', ['/F', '/T', '/PID', String(pid)], bound(limitMs))).code : 128;
      };
      const [byPid, byFilter] = await Promise.all([tree(), run('taskkill.exe', ['/F', '/FI', `SERVICES eq ${name}`], bound(limitMs)).then((r) => r.code)]);
      if (byPid !== 0 && byPid !== 128 && byFilter !== 0) throw new Error(`taskkill ${name} failed (exit ${byPid}/${byFilter})`);
    },
  };
}
