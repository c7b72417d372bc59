import { z } from 'zod';
import { ValidationError, pathToString, type Problem } from '../problems/problems';
import { portSchema, profileSchema, sharedItemSchema, type AppProfile } from './profile';
import {
  DEFAULT_FAIL_OVER_INTERVAL_SECS,
  deriveGuardTimings,
  drainSecs,
  serviceModeFor,
  timingProblems,
  type GuardTimings,
} from '../contracts/timing';
import { DEFAULT_GUARD_PORT } from '../contracts/guard-endpoints';
import { specTimingPaths } from '../contracts/timing-names';
import { defaultStartupTimeoutSecs, hookTimeoutProblems } from '../contracts/hook-settings';
import { secretReferenceProblem, type SecretPlace } from '../contracts/secret-reference';

const positiveSecs = z.number().positive('must be > 0');

/**
 * The guard's timings; only L is usually set. The others are derived by deriveGuardTimings (from
 * L and the profile's service mode) and every combination is checked by timingProblems, so the
 * formulas live there, not here.
 */
const guardSchema = z.object({
  /** L: the lease TTL, PaperCut's `high-availability-guard.fail-over-interval-secs`. @default 30 */
  failOverIntervalSecs: z.number().min(5, 'must be ≥ 5').max(3600, 'must be ≤ 3600').default(DEFAULT_FAIL_OVER_INTERVAL_SECS),
  /**
   * After winning the lease the app must be ready within this time; it covers the profile's hooks too.
   * @default - {@link defaultStartupTimeoutSecs} of the profile's hooks
   */
  startupTimeoutSecs: z.number().int().min(1, 'must be ≥ 1').optional(),
  /**
   * R: how often the active node renews and passive nodes poll.
   * @default - derived from L by {@link deriveGuardTimings}
   */
  renewPeriodSecs: z.number().min(0.2, 'must be ≥ 0.2').optional(),
  /**
   * Q: timeout of one lease statement.
   * @default - derived from R by {@link deriveGuardTimings}
   */
  queryTimeoutSecs: positiveSecs.optional(),
  /**
   * D: past this, counted from the last successful renew, the node fences itself.
   * @default - derived from L, R, Q and the service mode by {@link deriveGuardTimings}
   */
  renewDeadlineSecs: positiveSecs.optional(),
  /**
   * S: cap of a planned, graceful stop of the app (a fence kills at once, never waits for it).
   * @default - {@link deriveGuardTimings}
   */
  stopTimeoutSecs: positiveSecs.optional(),
  /** Port of the guard's /health, /live, /metrics. @default 9180 */
  port: z.number().int().min(1, 'must be 1–65535').max(65535, 'must be 1–65535').default(DEFAULT_GUARD_PORT),
});

/** The load balancer's probe of the guard's /health. */
export const healthCheckSchema = z.object({
  /** I. @default 5 */
  intervalSecs: z.number().min(0.1, 'must be ≥ 0.1').max(300, 'must be ≤ 300').default(5),
  /** T, must be < I. @default 3 */
  timeoutSecs: z.number().min(0.1, 'must be ≥ 0.1').max(120, 'must be ≤ 120').default(3),
  /** H. @default 2 */
  healthyThreshold: z.number().int().min(1, 'must be ≥ 1').max(10, 'must be ≤ 10').default(2),
  /** U. @default 2 */
  unhealthyThreshold: z.number().int().min(1, 'must be ≥ 1').max(10, 'must be ≤ 10').default(2),
});

/** A secret reference for one place (lib/contracts/secret-reference.ts says which schemes work where). */
const secretRefSchema = (place: SecretPlace) =>
  z.string().superRefine((ref, ctx) => {
    const problem = secretReferenceProblem(ref, place);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

export const databaseSchema = z.object({
  /** @default 'postgres' */
  engine: z.enum(['postgres', 'mysql']).default('postgres'),
  /** Mapped to an instance class per cloud. @default 'small' */
  size: z.enum(['small', 'medium', 'large']).default('small'),
  /** @default 20 */
  storageGb: z.number().int().min(20, 'must be ≥ 20').max(16384, 'must be ≤ 16384').default(20),
  /** @default 7 */
  backupRetentionDays: z.number().int().min(7, 'must be ≥ 7').max(35, 'must be ≤ 35').default(7),
  /** Database (schema) name. @default the app name: papercut, thinprint or app */
  name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and _').optional(),
  /** Use an existing database instead of creating one. */
  existing: z
    .object({
      host: z.string().min(1, 'must not be empty'),
      port: z.number().int().min(1).max(65535).optional(),
      username: z.string().min(1, 'must not be empty'),
      /** Where the password lives, e.g. `aws-secretsmanager:arn:…` or `azure-keyvault:https://…`. */
      passwordSecretRef: secretRefSchema('database-password'),
    })
    .optional(),
});

export const storageSchema = z.object({
  /** @default 'nfs' on Linux, 'smb' on Windows */
  kind: z.enum(['nfs', 'smb']).optional(),
  /** Share quota (Azure premium shares start at 100). @default 100 */
  sizeGb: z.number().int().min(100, 'must be ≥ 100').default(100),
  /** SMB user/password secret (`file:`, `aws-secretsmanager:` or `azure-keyvault:`, read by the boot script); required for SMB on Linux (no domain join to lean on). */
  credentialsSecretRef: secretRefSchema('smb-credentials').optional(),
});

export const loadBalancerSchema = z.object({
  /** @default 'internal' */
  scheme: z.enum(['internal', 'public']).default('internal'),
  /** 4 forwards TCP (the vendor's most tested setup); 7 terminates HTTP. @default 4 */
  layer: z.union([z.literal(4), z.literal(7)]).default(4),
  /** ACM ARN or Key Vault certificate id for a TLS listener. @default - no TLS listener */
  certificateRef: z.string().min(1).optional(),
  /** @default true */
  preserveClientIp: z.boolean().default(true),
  /** Floating IP / direct server return: the VIP goes on each node's `lo`. @default false */
  floatingIp: z.boolean().default(false),
  /** CIDRs allowed to reach the app ports. @default - the VPC / virtual network only */
  allowedCidrs: z.array(z.cidrv4('must be an IPv4 CIDR')).optional(),
});

const tagKey = z.string().min(1, 'tag keys must not be empty').max(128, 'tag keys must be ≤ 128 chars');

export const clusterSpecSchema = z.object({
  /** Prefix of every resource name. */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, 'must be 2–32 lower-case letters, digits and dashes, starting with a letter'),
  /** From papercut(), thinprint() or custom(). */
  profile: profileSchema,
  /** Fixed number of app servers. @default 2 */
  nodeCount: z.number().int('must be an integer').min(2, 'must be ≥ 2: failover needs a second node').max(10, 'must be ≤ 10').default(2),
  /** @default the profile's ports */
  ports: z.array(portSchema).min(1, 'at least one port').optional(),
  /** @default the profile's shared items */
  sharedItems: z.array(sharedItemSchema).optional(),
  guard: guardSchema.prefault({}),
  healthCheck: healthCheckSchema.prefault({}),
  database: databaseSchema.prefault({}),
  storage: storageSchema.prefault({}),
  loadBalancer: loadBalancerSchema.prefault({}),
  /** Receive alarm / alert e-mails. @default [] */
  notificationEmails: z.array(z.email('must be an e-mail address')).default([]),
  /** Added to every resource. @default {} */
  tags: z.record(tagKey, z.string().max(256, 'tag values must be ≤ 256 chars')).default({}),
});

export type ClusterSpecInput = z.input<typeof clusterSpecSchema>;

/** A fully resolved cluster: every default applied, every rule checked. */
export interface ClusterSpec {
  readonly name: string;
  readonly profile: AppProfile;
  readonly nodeCount: number;
  readonly ports: AppProfile['ports'];
  readonly sharedItems: AppProfile['sharedItems'];
  /** The timings as {@link deriveGuardTimings} resolved them, the guard's port and its drain time ({@link drainSecs}). */
  readonly guard: GuardTimings & { readonly port: number; readonly drainSecs: number };
  readonly healthCheck: z.output<typeof healthCheckSchema>;
  readonly database: Omit<z.output<typeof databaseSchema>, 'name'> & { readonly name: string };
  readonly storage: Omit<z.output<typeof storageSchema>, 'kind'> & { readonly kind: 'nfs' | 'smb' };
  readonly loadBalancer: z.output<typeof loadBalancerSchema>;
  readonly notificationEmails: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

/** Spec paths under which the guard timing invariants are reported. */
const TIMING_PATHS = specTimingPaths();
const HOOK_TIMEOUT_PATHS = { startup: TIMING_PATHS.startupTimeoutSecs, hook: (phase: string, i: number) => `profile.hooks.${phase}[${i}].timeoutSecs` };

/**
 * Parses and resolves a cluster spec. Throws one ValidationError listing every problem with
 * its path. Field rules are checked first; cross-field rules run on the fields that passed.
 */
export function parseClusterSpec(input: unknown): ClusterSpec {
  const parsed = clusterSpecSchema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(
      'cluster spec',
      parsed.error.issues.map((i) => ({ path: pathToString(i.path), message: i.message })),
    );
  }
  const raw = parsed.data;
  const spec = resolve(raw);
  const problems = crossFieldProblems(spec, raw.storage.kind !== undefined);
  if (problems.length > 0) throw new ValidationError('cluster spec', problems);
  return spec;
}

function resolve(raw: z.output<typeof clusterSpecSchema>): ClusterSpec {
  const { port, ...timingInput } = raw.guard;
  const timings = deriveGuardTimings({ ...timingInput, startupTimeoutSecs: timingInput.startupTimeoutSecs ?? defaultStartupTimeoutSecs(raw.profile.hooks) }, serviceModeFor(raw.profile.os));
  return {
    name: raw.name,
    profile: raw.profile,
    nodeCount: raw.nodeCount,
    ports: raw.ports ?? raw.profile.ports,
    sharedItems: raw.sharedItems ?? raw.profile.sharedItems,
    guard: { ...timings, port, drainSecs: drainSecs(raw.healthCheck) },
    healthCheck: raw.healthCheck,
    database: { ...raw.database, name: raw.database.name ?? defaultDatabaseName(raw.profile) },
    storage: { ...raw.storage, kind: raw.storage.kind ?? (raw.profile.os === 'windows' ? 'smb' : 'nfs') },
    loadBalancer: raw.loadBalancer,
    notificationEmails: raw.notificationEmails,
    tags: raw.tags,
  };
}

function defaultDatabaseName(profile: AppProfile): string {
  return profile.app === 'custom' ? 'app' : profile.app;
}

function crossFieldProblems(spec: ClusterSpec, storageKindGiven: boolean): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<number, number>();
  spec.ports.forEach((p, i) => {
    const first = seen.get(p.port);
    if (first !== undefined) problems.push({ path: `ports[${i}].port`, message: `port ${p.port} is already used by ports[${first}]` });
    else seen.set(p.port, i);
    if (spec.profile.failoverMode === 'guard' && p.port === spec.guard.port) {
      problems.push({ path: `ports[${i}].port`, message: `port ${p.port} is the guard's health port (guard.port)` });
    }
  });
  const items = new Set<string>();
  spec.sharedItems.forEach((item, i) => {
    const key = item.path.replace(/\\/g, '/').replace(/\/+$/, '');
    if (items.has(key)) problems.push({ path: `sharedItems[${i}].path`, message: `"${item.path}" is listed twice` });
    items.add(key);
  });
  if (spec.healthCheck.timeoutSecs >= spec.healthCheck.intervalSecs) {
    problems.push({ path: 'healthCheck.timeoutSecs', message: `must be < healthCheck.intervalSecs (${spec.healthCheck.intervalSecs})` });
  }
  if (spec.profile.failoverMode === 'guard') {
    problems.push(...timingProblems(spec.guard, TIMING_PATHS, spec.healthCheck, serviceModeFor(spec.profile.os)));
    problems.push(...hookTimeoutProblems(spec.profile.hooks, spec.guard.startupTimeoutSecs, HOOK_TIMEOUT_PATHS));
  }
  if (spec.loadBalancer.floatingIp && spec.loadBalancer.layer !== 4) {
    problems.push({ path: 'loadBalancer.floatingIp', message: 'floating IP / direct server return needs loadBalancer.layer 4' });
  }
  if (spec.profile.app === 'thinprint' && spec.profile.os !== 'windows') {
    problems.push({ path: 'profile.os', message: 'ThinPrint Connection Service runs on Windows only' });
  }
  problems.push(...clusterModeProblems(spec.profile));
  if (spec.storage.kind === 'smb' && spec.profile.os === 'linux' && !spec.storage.credentialsSecretRef) {
    problems.push({
      path: 'storage.credentialsSecretRef',
      message: 'SMB on Linux needs a credentials secret (Linux nodes are not domain-joined)',
    });
  }
  if (storageKindGiven && spec.storage.kind === 'nfs' && spec.profile.os === 'windows') {
    problems.push({ path: 'storage.kind', message: 'Windows nodes mount the share over SMB; use "smb"' });
  }
  return problems;
}

/** `clusterMode` belongs to ThinPrint and decides its failoverMode; a mismatch cannot be built. */
function clusterModeProblems(profile: AppProfile): Problem[] {
  const mode = profile.clusterMode;
  if (profile.nodeSubnetCidrs !== undefined && mode !== 'dns-multicast') {
    return [{ path: 'profile.nodeSubnetCidrs', message: 'is for ThinPrint dns-multicast only (MCastNodeIfBits)' }];
  }
  if (mode === undefined) return [];
  if (profile.app !== 'thinprint') return [{ path: 'profile.clusterMode', message: 'is for ThinPrint only; other apps choose profile.failoverMode' }];
  const wanted = mode === 'dns-multicast' ? 'dns' : 'guard';
  if (profile.failoverMode !== wanted) {
    return [{ path: 'profile.clusterMode', message: `"${mode}" runs with failoverMode "${wanted}", not "${profile.failoverMode}"` }];
  }
  return [];
}
