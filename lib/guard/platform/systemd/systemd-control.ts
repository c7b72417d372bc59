import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { SERVICE_COMMAND_TIMEOUT_MS } from '../../../contracts/timing';
import { runCommand, type RunCommand } from '../../app/run-command';
import { mayRun, type ServiceControl, type ServiceState } from '../../app/service-supervisor';
import { throwIfAborted } from '../../app/supervisor';

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
  /** Timeout of one systemctl call (shortened to what is left until a caller's deadline). @default {@link SERVICE_COMMAND_TIMEOUT_MS} */
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
  const timeoutMs = opts.commandTimeoutMs ?? SERVICE_COMMAND_TIMEOUT_MS;
  const envDir = opts.envDir ?? DEFAULT_ENV_DIR;
  const cgroupRoot = opts.cgroupRoot ?? '/sys/fs/cgroup';
  const envFile = unitEnvFile(unit, envDir);
  /** The unit's cgroup as systemd last named it. */
  let cgroup: string | undefined;
  const ctl = (args: string[], limitMs = timeoutMs) => run(['systemctl', ...args], { timeoutMs: Math.max(1, Math.min(timeoutMs, limitMs)) });
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
