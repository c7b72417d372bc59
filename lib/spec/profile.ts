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
});
export type AppProfileInput = z.input<typeof profileSchema>;
export type AppProfile = z.output<typeof profileSchema>;
