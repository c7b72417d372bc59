import type { GuardDatabaseSettings } from '../contracts/guard-settings';
import type { AppSettings } from '../contracts/hook-settings';
import type { GuardBinaryFetch, NodePlatform, ReplacementWatch } from './platform';
import type { ThinPrintNodeSettings } from './thinprint-windows';

/**
 * What a boot script needs to know beyond the ClusterSpec: facts only the cloud construct
 * knows. Its `mode` is the profile's failover mode: a guarded node has a guard binary and a
 * database, a `dns` node (every node active) has neither.
 */
export type BootContext = GuardNodeContext | DnsNodeContext;

/** What every node's context has, whatever its mode. */
export interface NodeContextBase {
  /** The cloud the node runs in (instance id, metadata service, probe sources). */
  readonly platform: NodePlatform;
  /** The share, when the spec has shared items. @default - none (required with shared items) */
  readonly share?: ShareMount;
  /** Load-balancer VIP to put on `lo` for floating IP / direct server return. @default - none */
  readonly loopbackVip?: string;
  /** Where the share is mounted on Linux. @default '/mnt/failover-share' */
  readonly mountPoint?: string;
  /** Drive letter or UNC root used on Windows. @default 'S:' */
  readonly windowsDrive?: string;
  /**
   * The app's side, for the profile's hooks and boot steps: its own database (user URL and
   * secret) and the load balancer's name. @default - none (profiles without hooks)
   */
  readonly app?: AppSettings;
  /**
   * Windows: where the load balancer's health probes come from (the guard's port admits only
   * these in Windows Firewall): the NLB's subnets on AWS. @default - the platform's default
   */
  readonly healthProbeSources?: readonly string[];
  /** ThinPrint only: client-keys secret and (dns-multicast) the nodes' subnets. @default - none */
  readonly thinprint?: ThinPrintNodeSettings;
}

/** A node of a `guard` profile: the guard elects the active node through the database. */
export interface GuardNodeContext extends NodeContextBase {
  readonly mode: 'guard';
  /** Where the guard binary comes from (the cloud's GuardBinaryFetch). */
  readonly guardBinary: GuardBinaryFetch;
  /** The guard's database URL (no password) and where the password is read from. */
  readonly database: GuardDatabaseSettings;
  /** Extra guard config entries (key → value), e.g. `notify.command`. @default - none */
  readonly extraGuardSettings?: ReadonlyArray<readonly [string, string]>;
  /**
   * How the cloud tells the node it is about to be replaced (rolling update, scale-in). The
   * node then runs a watcher that steps an active guard down, stops the guard and lets the
   * replacement go on. @default - none (the shutdown's guard stop still releases the lease)
   */
  readonly replacement?: ReplacementWatch;
}

/** A node of a `dns` profile (ThinPrint dns-multicast): every node runs the app, no guard. */
export interface DnsNodeContext extends NodeContextBase {
  readonly mode: 'dns';
}

export type ShareMount =
  /** Plain NFS v4.1, e.g. Azure Files NFS `acct.file.core.windows.net:/acct/share`. */
  | { readonly kind: 'nfs'; readonly address: string; readonly mountOptions?: readonly string[] }
  /** AWS EFS by file system id; mounted with the efs helper and TLS where it exists, else NFS 4.1. */
  | { readonly kind: 'efs'; readonly fileSystemId: string; readonly region: string; readonly mountOptions?: readonly string[] }
  /** SMB 3, e.g. `//acct.file.core.windows.net/share` or an FSx DNS name share. */
  | {
      readonly kind: 'smb';
      readonly address: string;
      /** Secret holding `{"username":…,"password":…}`, read by the boot script: `file:`, `aws-secretsmanager:` or `azure-keyvault:` (lib/contracts/secret-reference.ts), never `env:`. */
      readonly credentialsSecretRef?: string;
      readonly mountOptions?: readonly string[];
    };

/** Ends every switch over a union: a new member is a compile error here, never a silent default branch. */
export function assertNever(value: never, what: string): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
