import * as os from 'os';
import { databaseUrlProblem } from './lease/database-url';
import type { Problem } from '../problems/problems';
import { GUARD_KEYS } from '../contracts/guard-settings';
import { secretReferenceProblem } from '../contracts/secret-reference';
import { DEFAULT_GUARD_PORT } from '../contracts/guard-endpoints';
import { TIMING_KEY_NAMES } from '../contracts/timing-names';
import type { LogLevel } from './log';
import { APP_KEY_LIST, isAppHookKey, loadAppHookConfig, type AppHookConfig } from './app/hook-config';
import {
  DEFAULT_FAIL_OVER_INTERVAL_SECS,
  deriveGuardTimings,
  drainSecs as lbDrainSecs,
  timingProblems,
  timingValueProblem,
  type GuardTimings,
  type HealthCheckTimings,
  type ServiceMode,
  watchdogSecs,
} from '../contracts/timing';

/**
 * Keys only the guard itself reads (the constructs never need to set them): the health
 * server's bind address and the log level. Everything else is the shared {@link GUARD_KEYS} contract.
 */
export const GUARD_LOCAL_KEYS = {
  healthBind: 'health.bind',
  logLevel: 'log.level',
} as const;

/** Every key a properties file may contain. */
export const ALL_GUARD_KEYS: readonly string[] = [...Object.values(GUARD_KEYS), ...Object.values(GUARD_LOCAL_KEYS), ...APP_KEY_LIST];

export const DEFAULT_CONFIG_FILE = '/etc/failover-guard/guard.properties';

/** How the guard runs the app. */
export interface ServiceConfig {
  readonly mode: ServiceMode;
  /** `exec`: shell command line the guard spawns and owns. */
  readonly command?: string;
  /** `systemd`: unit name. */
  readonly unit?: string;
  /** `windows-service`: service name. */
  readonly name?: string;
  /** `http://…` (2xx/3xx = ready) or `tcp://host:port` (connect = ready). @default - running = ready */
  readonly ready?: string;
  readonly stopTimeoutSecs: number;
}

/** The guard's validated configuration. */
export interface GuardConfig {
  readonly clusterName: string;
  readonly nodeId: string;
  /** Absent only in single-server mode (`high-availability-guard.enabled=N`). */
  readonly databaseUrl?: string;
  readonly passwordSource?: string;
  /** false = single-server mode: run the app unconditionally, no lease. */
  readonly enabled: boolean;
  readonly timings: GuardTimings;
  readonly healthPort: number;
  readonly healthBind: string;
  /** Seconds /health answers 503 before the app is stopped on a graceful release. */
  readonly drainSecs: number;
  /** The load balancer's health-check timings, when all four keys are given. */
  readonly loadBalancer?: HealthCheckTimings;
  readonly service: ServiceConfig;
  readonly notifyCommand?: string;
  /** The profile's hooks and the app settings they read (hook-config.ts). */
  readonly app?: AppHookConfig;
  /** `log.level`: `debug` logs one line per elector tick. @default 'info' */
  readonly logLevel: LogLevel;
}

export type ConfigResult = { ok: true; config: GuardConfig } | { ok: false; problems: Problem[] };

/** `health.port` → `FAILOVER_GUARD_HEALTH_PORT`. */
export function envName(key: string): string {
  return 'FAILOVER_GUARD_' + key.replace(/[.-]/g, '_').toUpperCase();
}

/**
 * Parses a properties file (`key=value`, `#`/`!` comments, blank lines). Duplicate keys and
 * lines without `=` are problems naming the line, so a typo never silently drops a setting.
 */
export function parseProperties(text: string): { entries: Map<string, string>; problems: Problem[] } {
  const entries = new Map<string, string>();
  const problems: Problem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      problems.push({ path: `line ${i + 1}`, message: `expected key=value, got "${line}"` });
      return;
    }
    const key = line.slice(0, eq).trim();
    if (entries.has(key)) problems.push({ path: key, message: `set twice (line ${i + 1})` });
    entries.set(key, line.slice(eq + 1).trim());
  });
  return { entries, problems };
}

/**
 * A value check: the parsed value, or the problem's message. Plain functions rather than zod:
 * the guard never loads a schema library (≈6 MB of resident memory for a dozen simple checks).
 */
type Check<T> = (raw: string) => { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T) => ({ ok: true as const, value });
const bad = (message: string) => ({ ok: false as const, message });
/** Runs `checks` on the value `parse` gives, collecting every failing message (`; `-joined). */
function check<T>(parse: (raw: string) => T | undefined, parseMessage: string, ...checks: Array<[(v: T) => boolean, string]>): Check<T> {
  return (raw) => {
    const value = parse(raw);
    if (value === undefined) return bad(parseMessage);
    const failed = checks.filter(([test]) => !test(value)).map(([, message]) => message);
    return failed.length > 0 ? bad(failed.join('; ')) : ok(value);
  };
}
const toNumber = (raw: string): number | undefined => {
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
};
const matching = (re: RegExp, message: string): Check<string> => check((raw) => raw, message, [(v) => re.test(v), message]);

const positiveSecs = check(toNumber, 'must be a number of seconds', [(n) => n > 0, 'must be > 0']);
/** A timing key: its value rule is the one {@link timingProblems} (and the `Elector`) applies. */
const timingSecs =
  (field: keyof GuardTimings): Check<number> =>
  (raw) => {
    const n = toNumber(raw) ?? NaN;
    const message = timingValueProblem(field, n);
    return message ? bad(message) : ok(n);
  };
const nonNegativeSecs = check(toNumber, 'must be a number of seconds', [(n) => n >= 0, 'must be ≥ 0']);
const count = check(toNumber, 'must be a whole number', [Number.isInteger, 'must be a whole number'], [(n) => n >= 1, 'must be ≥ 1']);
const port = check(toNumber, 'must be a whole number', [Number.isInteger, 'must be a whole number'], [(n) => n >= 1 && n <= 65535, 'must be 1–65535']);
const YES = ['y', 'yes', 'true', '1'];
const NO = ['n', 'no', 'false', '0'];
const yesNo = check((raw) => (YES.includes(raw.toLowerCase()) ? true : NO.includes(raw.toLowerCase()) ? false : undefined), 'must be Y or N');
const LOG_LEVELS: readonly LogLevel[] = ['info', 'debug'];
const logLevel = check((raw) => LOG_LEVELS.find((l) => l === raw.toLowerCase()), 'must be info or debug');
const MODES: readonly ServiceMode[] = ['exec', 'systemd', 'windows-service'];
const mode = check((raw) => MODES.find((m) => m === raw), 'must be exec, systemd or windows-service');
const readyUrl = check((raw) => raw, 'must be http://… or tcp://host:port', [(s) => /^https?:\/\/\S+$/.test(s) || /^tcp:\/\/[^:/\s]+:\d+$/.test(s), 'must be http://… or tcp://host:port']);
const passwordSource: Check<string> = (raw) => {
  const problem = secretReferenceProblem(raw, 'database-password');
  return problem ? bad(problem) : ok(raw);
};
const dbUrl: Check<string> = (raw) => {
  if (/:\/\/[^/@]*:[^/@]*@/.test(raw)) return bad('must not contain a password; use database.password-source');
  const problem = /\s/.test(raw) ? 'must not contain spaces' : databaseUrlProblem(raw);
  return problem ? bad(problem) : ok(raw);
};
const nonEmpty = matching(/^[\s\S]+$/, 'must not be empty');
const name = matching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1–63 letters, digits, ".", "_" or "-"');

/**
 * Loads the guard config from properties text plus `FAILOVER_GUARD_*` env overrides. Every
 * problem names its key; timing invariants are checked with the resolved timings.
 */
export function loadGuardConfig(text: string, env: NodeJS.ProcessEnv = {}, hostname: string = os.hostname()): ConfigResult {
  const parsed = parseProperties(text);
  const problems: Problem[] = [...parsed.problems];
  const known = new Set(ALL_GUARD_KEYS);
  for (const key of parsed.entries.keys()) {
    if (!known.has(key) && !isAppHookKey(key)) problems.push({ path: key, message: 'unknown key' });
  }
  const raw = new Map<string, string>();
  for (const key of ALL_GUARD_KEYS) {
    const value = env[envName(key)] ?? parsed.entries.get(key);
    if (value !== undefined && value !== '') raw.set(key, value);
  }
  function get<T>(key: string, checkValue: Check<T>): T | undefined;
  function get<T>(key: string, checkValue: Check<T>, fallback: T): T;
  function get<T>(key: string, checkValue: Check<T>, fallback?: T): T | undefined {
    const value = raw.get(key);
    if (value === undefined) return fallback;
    const r = checkValue(value);
    if (r.ok) return r.value;
    problems.push({ path: key, message: r.message });
    return fallback;
  }
  const require = (key: string, why: string): void => {
    if (!raw.has(key)) problems.push({ path: key, message: `is required${why}` });
  };
  const K = GUARD_KEYS;

  const enabled = get(K.enabled, yesNo, true);
  const clusterName = get(K.clusterName, name);
  require(K.clusterName, '');
  const nodeId = get(K.nodeId, name, hostname.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 63));
  const databaseUrl = get(K.databaseUrl, dbUrl);
  if (enabled) require(K.databaseUrl, ' (or set high-availability-guard.enabled=N)');
  const pwSource = get(K.passwordSource, passwordSource);

  // The mode's kill-confirm bound K is part of the timing rule (L − D ≥ K + M).
  const serviceMode = get(K.serviceMode, mode, 'exec');
  // A bad timing value is named here and left out (derived or defaulted instead), so it is not
  // reported again through the invariants below.
  const timings = deriveGuardTimings(
    {
      failOverIntervalSecs: get(K.failOverIntervalSecs, timingSecs('failOverIntervalSecs'), DEFAULT_FAIL_OVER_INTERVAL_SECS),
      startupTimeoutSecs: get(K.startupTimeoutSecs, timingSecs('startupTimeoutSecs')),
      renewPeriodSecs: get(K.renewPeriodSecs, timingSecs('renewPeriodSecs')),
      queryTimeoutSecs: get(K.queryTimeoutSecs, timingSecs('queryTimeoutSecs')),
      renewDeadlineSecs: get(K.renewDeadlineSecs, timingSecs('renewDeadlineSecs')),
      stopTimeoutSecs: get(K.stopTimeoutSecs, timingSecs('stopTimeoutSecs')),
    },
    serviceMode,
  );

  const lbKeys = [K.lbIntervalSecs, K.lbTimeoutSecs, K.lbHealthyThreshold, K.lbUnhealthyThreshold];
  const lbGiven = lbKeys.filter((k) => raw.has(k));
  let loadBalancer: HealthCheckTimings | undefined;
  if (lbGiven.length > 0) {
    for (const k of lbKeys) if (!raw.has(k)) problems.push({ path: k, message: `is required when ${lbGiven[0]} is set` });
    const lb = {
      intervalSecs: get(K.lbIntervalSecs, positiveSecs),
      timeoutSecs: get(K.lbTimeoutSecs, positiveSecs),
      healthyThreshold: get(K.lbHealthyThreshold, count),
      unhealthyThreshold: get(K.lbUnhealthyThreshold, count),
    };
    if (lb.intervalSecs !== undefined && lb.timeoutSecs !== undefined && lb.healthyThreshold !== undefined && lb.unhealthyThreshold !== undefined) {
      loadBalancer = lb as HealthCheckTimings;
    }
  }
  if (enabled) problems.push(...timingProblems(timings, TIMING_KEY_NAMES, loadBalancer, serviceMode));
  // Under systemd the unit's WatchdogSec= arrives as WATCHDOG_USEC: longer than W and a stalled
  // guard would be killed too late to have stopped its app before the lease moves.
  const watchdogUsec = Number(env.WATCHDOG_USEC);
  if (enabled && env.NOTIFY_SOCKET && Number.isFinite(watchdogUsec) && watchdogUsec > 0 && watchdogUsec / 1e6 > watchdogSecs(timings, serviceMode) + 0.0005) {
    problems.push({
      path: 'WatchdogSec',
      message: `the guard unit's WatchdogSec (${watchdogUsec / 1e6}s) must be ≤ ${watchdogSecs(timings, serviceMode)}s = ¾ × (${K.failOverIntervalSecs} − ${K.renewDeadlineSecs} − K − M) for these timings and ${K.serviceMode}=${serviceMode}`,
    });
  }

  const healthPort = get(K.healthPort, port, DEFAULT_GUARD_PORT);
  const healthBind = get(GUARD_LOCAL_KEYS.healthBind, matching(/^[0-9a-fA-F.:]+$/, 'must be an IP address'), '0.0.0.0');
  // Drain: explicit, else what the load balancer needs to see the node down (U·I + T), else
  // nothing to wait for.
  const drainSecs = get(K.drainSecs, nonNegativeSecs) ?? (loadBalancer ? lbDrainSecs(loadBalancer) : 0);

  const service: ServiceConfig = {
    mode: serviceMode,
    command: get(K.serviceCommand, nonEmpty),
    unit: get(K.serviceUnit, matching(/^[A-Za-z0-9@_.:-]+$/, 'must be a systemd unit name')),
    name: get(K.serviceName, matching(/^[A-Za-z0-9_.$ -]+$/, 'must be a Windows service name')),
    ready: get(K.serviceReady, readyUrl),
    stopTimeoutSecs: timings.stopTimeoutSecs,
  };
  const modeKey = { exec: K.serviceCommand, systemd: K.serviceUnit, 'windows-service': K.serviceName }[serviceMode];
  require(modeKey, ` when service.mode=${serviceMode}`);
  const notifyCommand = get(K.notifyCommand, nonEmpty);
  const level = get(GUARD_LOCAL_KEYS.logLevel, logLevel, 'info');

  // The app's configuration: hooks and the app.* keys they read.
  // a startup timeout already named as bad is not checked against the hooks again
  const app = loadAppHookConfig(parsed.entries, raw, problems.some((p) => p.path === K.startupTimeoutSecs) ? undefined : timings.startupTimeoutSecs);
  problems.push(...app.problems);

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: {
      clusterName: clusterName as string,
      nodeId,
      databaseUrl,
      passwordSource: pwSource,
      enabled,
      timings,
      healthPort,
      healthBind,
      drainSecs,
      loadBalancer,
      service,
      notifyCommand,
      app: app.config,
      logLevel: level,
    },
  };
}
