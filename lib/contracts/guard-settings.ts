import { urlHasPassword } from './database-url';
import { serviceModeFor, type GuardTimings, type HealthCheckTimings } from './timing';

/**
 * The guard's config keys (the properties-file contract of the design). The three
 * `high-availability-guard.*` keys keep PaperCut's names; the rest are ours.
 */
export const GUARD_KEYS = {
  clusterName: 'cluster.name',
  nodeId: 'node.id',
  databaseUrl: 'database.url',
  passwordSource: 'database.password-source',
  enabled: 'high-availability-guard.enabled',
  failOverIntervalSecs: 'high-availability-guard.fail-over-interval-secs',
  startupTimeoutSecs: 'high-availability-guard.startup-timeout-secs',
  renewPeriodSecs: 'high-availability-guard.renew-period-secs',
  queryTimeoutSecs: 'high-availability-guard.query-timeout-secs',
  renewDeadlineSecs: 'high-availability-guard.renew-deadline-secs',
  healthPort: 'health.port',
  drainSecs: 'health.drain-secs',
  lbIntervalSecs: 'load-balancer.interval-secs',
  lbTimeoutSecs: 'load-balancer.timeout-secs',
  lbHealthyThreshold: 'load-balancer.healthy-threshold',
  lbUnhealthyThreshold: 'load-balancer.unhealthy-threshold',
  serviceMode: 'service.mode',
  serviceCommand: 'service.command',
  serviceUnit: 'service.unit',
  serviceName: 'service.name',
  serviceReady: 'service.ready',
  stopTimeoutSecs: 'service.stop-timeout-secs',
  notifyCommand: 'notify.command',
} as const;

/** Where the guard finds its database; the password is only ever referenced. */
export interface GuardDatabaseSettings {
  /** `postgres://user@host:5432/db?sslmode=require` or `mysql://…`, never with a password. */
  readonly url: string;
  /** A secret reference the guard reads (lib/contracts/secret-reference.ts): `file:…`, `env:…`, `aws-secretsmanager:<arn>` or `azure-keyvault:<secret-url>`. */
  readonly passwordSource: string;
}

/** How the guard tells the app is ready: a profile's `readiness`, written as `service.ready`. */
export type ReadinessProbe = { readonly kind: 'http'; readonly url: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/**
 * What the guard config is made of: the parts of a resolved ClusterSpec it reads (a ClusterSpec
 * is one). Named here, not imported, so the contracts need nothing from the user's model.
 */
export interface GuardSettingsSource {
  readonly name: string;
  readonly guard: GuardTimings & { readonly port: number; readonly drainSecs: number };
  readonly healthCheck: HealthCheckTimings;
  readonly profile: { readonly os: 'linux' | 'windows'; readonly serviceName: string; readonly readiness: ReadinessProbe };
}

/** `http://…` or `tcp://host:port`, the guard's `service.ready` syntax. */
export function readinessUrl(readiness: ReadinessProbe): string {
  return readiness.kind === 'http' ? readiness.url : `tcp://${readiness.host}:${readiness.port}`;
}

/**
 * The guard config for one cluster, from the same spec values the load balancer's health
 * check uses, so the guard re-checks L − D ≥ (U − H + 1)·I + T when it loads. Ordered entries;
 * `node.id` is left to the guard (default: hostname).
 */
export function guardSettings(spec: GuardSettingsSource, database: GuardDatabaseSettings): Array<[string, string]> {
  if (urlHasPassword(database.url)) {
    throw new Error('database.url must not contain a password; use database.password-source');
  }
  const g = spec.guard;
  const hc = spec.healthCheck;
  const windows = spec.profile.os === 'windows';
  return [
    [GUARD_KEYS.clusterName, spec.name],
    [GUARD_KEYS.databaseUrl, database.url],
    [GUARD_KEYS.passwordSource, database.passwordSource],
    [GUARD_KEYS.enabled, 'Y'],
    [GUARD_KEYS.failOverIntervalSecs, String(g.failOverIntervalSecs)],
    [GUARD_KEYS.startupTimeoutSecs, String(g.startupTimeoutSecs)],
    [GUARD_KEYS.renewPeriodSecs, String(g.renewPeriodSecs)],
    [GUARD_KEYS.queryTimeoutSecs, String(g.queryTimeoutSecs)],
    [GUARD_KEYS.renewDeadlineSecs, String(g.renewDeadlineSecs)],
    [GUARD_KEYS.healthPort, String(g.port)],
    [GUARD_KEYS.drainSecs, String(g.drainSecs)],
    [GUARD_KEYS.lbIntervalSecs, String(hc.intervalSecs)],
    [GUARD_KEYS.lbTimeoutSecs, String(hc.timeoutSecs)],
    [GUARD_KEYS.lbHealthyThreshold, String(hc.healthyThreshold)],
    [GUARD_KEYS.lbUnhealthyThreshold, String(hc.unhealthyThreshold)],
    [GUARD_KEYS.serviceMode, serviceModeFor(spec.profile.os)],
    [windows ? GUARD_KEYS.serviceName : GUARD_KEYS.serviceUnit, spec.profile.serviceName],
    [GUARD_KEYS.serviceReady, readinessUrl(spec.profile.readiness)],
    [GUARD_KEYS.stopTimeoutSecs, String(g.stopTimeoutSecs)],
  ];
}

/**
 * Renders `key=value` lines (the guard's properties format). Values are written verbatim;
 * a newline in a value would start a new key, so it is rejected.
 */
export function renderProperties(entries: ReadonlyArray<readonly [string, string]>, header?: string): string {
  const lines = header ? header.split('\n').map((l) => `# ${l}`) : [];
  for (const [key, value] of entries) {
    if (/[\r\n]/.test(value) || /[\r\n=]/.test(key)) throw new Error(`guard config ${key}: value must be a single line`);
    lines.push(`${key}=${value}`);
  }
  return lines.join('\n') + '\n';
}
