import { z } from 'zod';

/** Relative path inside the app's install dir: no `..`, not absolute (POSIX or Windows). */
export const relativePathSchema = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => !/^([/\\]|[A-Za-z]:)/.test(p), 'must be relative to the install dir, not absolute')
  .refine((p) => !p.split(/[/\\]+/).includes('..'), 'must not contain ".." segments');

export const portSchema = z.object({
  /** Short name used in resource names (`http`, `https`, `device-rpc`). */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, 'must be lower-case letters, digits and dashes, ≤ 16 chars'),
  port: z.number().int().min(1, 'must be 1–65535').max(65535, 'must be 1–65535'),
  /** TCP is the only transport the load balancers forward for these apps. */
  protocol: z.literal('tcp').default('tcp'),
});
export type AppPort = z.output<typeof portSchema>;

export const sharedItemSchema = z.object({
  /** Relative to the install dir, e.g. `server.properties` or `data`. */
  path: relativePathSchema,
  /** `file` → file symlink, `directory` → directory symlink (mklink /D on Windows). */
  type: z.enum(['file', 'directory']),
});
export type SharedItem = z.output<typeof sharedItemSchema>;

/** How the guard decides the app is ready after starting it. */
export const readinessSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('http'), url: z.url(), expectStatus: z.tuple([z.number(), z.number()]).default([200, 399]) }),
  z.object({ kind: z.literal('tcp'), host: z.string().default('127.0.0.1'), port: z.number().int().min(1).max(65535) }),
]);
export type Readiness = z.output<typeof readinessSchema>;

/** How long a hook may run before the guard kills it (it also counts against the startup timeout). */
const hookTimeoutSchema = z.number().min(1, 'must be ≥ 1 second').max(3600, 'must be ≤ 3600 seconds');
const hookNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lower-case letters, digits and dashes, ≤ 40 chars');
/** A command line as argv (no shell). `{{network-address}}` is replaced by the guard's `app.network-address`. */
const argvSchema = z.array(z.string().min(1, 'must not be empty').refine((s) => !/[\r\n\0]/.test(s), 'must be one line')).min(1, 'must name a program');
const osUserSchema = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Linux user name');

/**
 * Something the guard does on the active node, under the lease, around the app's start.
 * - `command`: runs a program (argv, no shell) with the FAILOVER_GUARD_* environment.
 * - `app-database`: makes sure the app's own database user and database exist and the user's
 *   password is the one in the app secret (connecting with the guard's master credentials).
 * - `papercut-database-properties`: writes PaperCut's `database.*` keys into `file` from the app
 *   secret read at that moment (a rotated password reaches the app at its next start).
 * - `schema-init`: runs `argv` once per app database, and only while it has no tables; a marker
 *   row written under the lease (start and finish) makes later activations (on any node) skip
 *   it. A run that never finished is not taken for done: with tables left the hook fails
 *   naming their count; on an empty database it runs again.
 */
export const hookSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('command'), name: hookNameSchema, argv: argvSchema, timeoutSecs: hookTimeoutSchema.default(60), user: osUserSchema.optional() }),
  z.object({ kind: z.literal('app-database'), name: hookNameSchema, timeoutSecs: hookTimeoutSchema.default(30) }),
  z.object({ kind: z.literal('papercut-database-properties'), name: hookNameSchema, file: z.string().min(1, 'must not be empty'), timeoutSecs: hookTimeoutSchema.default(30) }),
  z.object({ kind: z.literal('schema-init'), name: hookNameSchema, argv: argvSchema, timeoutSecs: hookTimeoutSchema.default(600), user: osUserSchema.optional() }),
]);
export type AppHook = z.output<typeof hookSchema>;
export type AppHookInput = z.input<typeof hookSchema>;

export const hooksSchema = z.object({
  /** In order, right before the app starts (render config from secrets, schema init). */
  beforeStart: z.array(hookSchema).default([]),
  /** In order, once the app is ready; the node reports ready only after they succeed. */
  afterReady: z.array(hookSchema).default([]),
});
export type AppHooks = z.output<typeof hooksSchema>;

const sqlIdentifierSchema = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be lower-case letters, digits and _, ≤ 32 chars');

/** The app's own database and user (never the master user); the password is generated at deploy time. */
export const appDatabaseSchema = z.object({
  user: sqlIdentifierSchema,
  database: sqlIdentifierSchema,
});
export type AppDatabase = z.output<typeof appDatabaseSchema>;

/** PaperCut Print Deploy on each node, made failover-aware by the boot script. */
export const printDeploySchema = z.object({
  /** `[app-path]/providers/print-deploy/[os]` (absolute). */
  dir: z.string().min(1),
  /** systemd unit or Windows service of the Print Deploy server. */
  serviceName: z.string().min(1),
  /** Its client port, forwarded by the load balancer with the guard's health check. */
  port: z.number().int().min(1).max(65535),
});
export type PrintDeploy = z.output<typeof printDeploySchema>;

/**
 * Boot-time settings beyond links and services: what the vendor guide asks of every node.
 * All optional, so profiles without them (ThinPrint, most custom ones) are unchanged.
 */
export const profileExtrasSchema = z.object({
  hooks: hooksSchema.optional(),
  appDatabase: appDatabaseSchema.optional(),
  /** Services stopped and disabled on every node (printing and tracking: CUPS, Spooler, Print Provider). */
  disableServices: z.array(z.string().min(1)).optional(),
  printDeploy: printDeploySchema.optional(),
  /** `[app-path]/client`: every `<os>/config.properties` under it points at the load balancer. */
  clientConfigDir: z.string().min(1).optional(),
});

export const profileSchema = z.object({
  /** Which app this is; drives app-specific rules (ThinPrint only on Windows). */
  app: z.enum(['papercut', 'thinprint', 'custom']),
  displayName: z.string().min(1),
  os: z.enum(['linux', 'windows']),
  /**
   * `guard`: active/passive, failover-guard holds the lease (PaperCut).
   * `dns`: active/active behind a DNS name with health-checked records, no guard (ThinPrint CS).
   */
  failoverMode: z.enum(['guard', 'dns']),
  /**
   * ThinPrint only: `single-active` (guard behind the load balancer) or `dns-multicast` (the
   * vendor's active/active cluster; needs multicast). Must agree with failoverMode.
   * @default - none (not ThinPrint)
   */
  clusterMode: z.enum(['single-active', 'dns-multicast']).optional(),
  /**
   * ThinPrint `dns-multicast` only: the IPv4 CIDRs of the node subnets, as literals, in the
   * order of the cluster's subnet ids.
   * @default - none (not ThinPrint dns-multicast)
   */
  nodeSubnetCidrs: z.array(z.string().min(1)).optional(),
  /** Ports the load balancer forwards to the active node. */
  ports: z.array(portSchema).min(1, 'at least one port'),
  /** Absolute install dir on the node (the `[app-path]/server` of the seed for PaperCut). */
  installDir: z.string().min(1),
  /** Items moved to the share and linked back into the install dir. */
  sharedItems: z.array(sharedItemSchema),
  /** Files deleted on every clone so each node gets its own identity (`server.uuid`). */
  deleteOnClone: z.array(relativePathSchema),
  /** systemd unit (Linux) or Windows service name the guard starts and stops. */
  serviceName: z.string().min(1),
  /** OS user the app runs as; owns the share's files. */
  serviceUser: z.string().min(1).optional(),
  readiness: readinessSchema,
  ...profileExtrasSchema.shape,
});
export type AppProfileInput = z.input<typeof profileSchema>;
export type AppProfile = z.output<typeof profileSchema>;
