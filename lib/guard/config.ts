import * as os from 'os';
import { databaseUrlProblem } from './database-url';
import { z } from 'zod';
import type { Problem } from '../core/problems';
import { GUARD_KEYS } from '../spec/guard-settings';
import { APP_KEY_LIST, isAppHookKey, loadAppHookConfig, type AppHookConfig } from './hook-config';
import {
  deriveGuardTimings,
  drainSecs as lbDrainSecs,
  timingProblems,
  type GuardTimings,
  type HealthCheckTimings,
  type TimingNames,
} from '../spec/timing';

/**
 * Keys only the guard itself reads (the constructs never need to set them): the health
 * server's bind address. Everything else is the shared {@link GUARD_KEYS} contract.
 */
export const GUARD_LOCAL_KEYS = {
  healthBind: 'health.bind',
} as const;

/** Every key a properties file may contain. */
export const ALL_GUARD_KEYS: readonly string[] = [...Object.values(GUARD_KEYS), ...Object.values(GUARD_LOCAL_KEYS), ...APP_KEY_LIST];

export const DEFAULT_CONFIG_FILE = '/etc/failover-guard/guard.properties';
export const DEFAULT_HEALTH_PORT = 9180;

export type ServiceMode = 'exec' | 'systemd' | 'windows-service';

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
}

export type ConfigResult = { ok: true; config: GuardConfig } | { ok: false; problems: Problem[] };

/** Names timing problems by the config key that fixes them. */
export const TIMING_KEY_NAMES: TimingNames = {
  failOverIntervalSecs: GUARD_KEYS.failOverIntervalSecs,
  startupTimeoutSecs: GUARD_KEYS.startupTimeoutSecs,
  renewPeriodSecs: GUARD_KEYS.renewPeriodSecs,
  queryTimeoutSecs: GUARD_KEYS.queryTimeoutSecs,
  renewDeadlineSecs: GUARD_KEYS.renewDeadlineSecs,
  stopTimeoutSecs: GUARD_KEYS.stopTimeoutSecs,
  healthCheck: GUARD_KEYS.lbIntervalSecs,
};

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

const seconds = z.coerce.number({ message: 'must be a number of seconds' }).refine(Number.isFinite, 'must be a number of seconds');
const positiveSecs = seconds.refine((n) => n > 0, 'must be > 0');
const nonNegativeSecs = seconds.refine((n) => n >= 0, 'must be ≥ 0');
const count = z.coerce.number().int('must be a whole number').min(1, 'must be ≥ 1');
const port = z.coerce.number().int('must be a whole number').min(1, 'must be 1–65535').max(65535, 'must be 1–65535');
const yesNo = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(['y', 'n', 'yes', 'no', 'true', 'false', '1', '0'], { message: 'must be Y or N' }))
  .transform((s) => ['y', 'yes', 'true', '1'].includes(s));
const mode = z.enum(['exec', 'systemd', 'windows-service'], { message: 'must be exec, systemd or windows-service' });
const readyUrl = z.string().refine((s) => /^https?:\/\/\S+$/.test(s) || /^tcp:\/\/[^:/\s]+:\d+$/.test(s), 'must be http://… or tcp://host:port');
const passwordSource = z
  .string()
  .refine((s) => /^(file:|env:|aws-secretsmanager:|azure-keyvault:https:\/\/)\S+$/.test(s), 'must be file:PATH, env:NAME, aws-secretsmanager:ARN or azure-keyvault:https://…');
const dbUrl = z
  .string()
  .refine((s) => !/:\/\/[^/@]*:[^/@]*@/.test(s), { message: 'must not contain a password; use database.password-source', abort: true })
  .superRefine((s, ctx) => {
    const problem = /\s/.test(s) ? 'must not contain spaces' : databaseUrlProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const nonEmpty = z.string().min(1, 'must not be empty');
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1–63 letters, digits, ".", "_" or "-"');

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
  function get<T>(key: string, schema: z.ZodType<T>): T | undefined;
  function get<T>(key: string, schema: z.ZodType<T>, fallback: T): T;
  function get<T>(key: string, schema: z.ZodType<T>, fallback?: T): T | undefined {
    const value = raw.get(key);
    if (value === undefined) return fallback;
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    problems.push({ path: key, message: r.error.issues.map((i) => i.message).join('; ') });
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

  const L = get(K.failOverIntervalSecs, seconds.refine((n) => n >= 5, 'must be ≥ 5'), 30);
  const timings = deriveGuardTimings({
    failOverIntervalSecs: L,
    startupTimeoutSecs: get(K.startupTimeoutSecs, positiveSecs),
    renewPeriodSecs: get(K.renewPeriodSecs, positiveSecs),
    queryTimeoutSecs: get(K.queryTimeoutSecs, positiveSecs),
    renewDeadlineSecs: get(K.renewDeadlineSecs, positiveSecs),
    stopTimeoutSecs: get(K.stopTimeoutSecs, positiveSecs),
  });

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
  if (enabled) problems.push(...timingProblems(timings, TIMING_KEY_NAMES, loadBalancer));

  const healthPort = get(K.healthPort, port, DEFAULT_HEALTH_PORT);
  const healthBind = get(GUARD_LOCAL_KEYS.healthBind, z.string().regex(/^[0-9a-fA-F.:]+$/, 'must be an IP address'), '0.0.0.0');
  // Drain: explicit, else what the load balancer needs to see the node down (U·I + T), else
  // nothing to wait for.
  const drainSecs = get(K.drainSecs, nonNegativeSecs) ?? (loadBalancer ? lbDrainSecs(loadBalancer) : 0);

  const serviceMode = get(K.serviceMode, mode, 'exec');
  const service: ServiceConfig = {
    mode: serviceMode,
    command: get(K.serviceCommand, nonEmpty),
    unit: get(K.serviceUnit, z.string().regex(/^[A-Za-z0-9@_.:-]+$/, 'must be a systemd unit name')),
    name: get(K.serviceName, z.string().regex(/^[A-Za-z0-9_.$ -]+$/, 'must be a Windows service name')),
    ready: get(K.serviceReady, readyUrl),
    stopTimeoutSecs: timings.stopTimeoutSecs,
  };
  const modeKey = { exec: K.serviceCommand, systemd: K.serviceUnit, 'windows-service': K.serviceName }[serviceMode];
  require(modeKey, ` when service.mode=${serviceMode}`);
  const notifyCommand = get(K.notifyCommand, nonEmpty);

  // The app's configuration: hooks and the app.* keys they read.
  const app = loadAppHookConfig(parsed.entries, raw);
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
    },
  };
}
