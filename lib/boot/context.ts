import type { GuardDatabaseSettings } from '../contracts/guard-settings';
import type { AppSettings } from '../contracts/hook-settings';
import type { ThinPrintNodeSettings } from './thinprint-windows';

/**
 * What a boot script needs to know beyond the ClusterSpec: facts only the cloud construct
 * knows (share address, where the guard binary lives, the database endpoint).
 */
export interface BootContext {
  readonly share: ShareMount;
  readonly guardBinary: GuardBinarySource;
  /** The guard's database URL (no password) and where the password is read from. */
  readonly database: GuardDatabaseSettings;
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
  /** Extra guard config entries (key → value), e.g. `notify.command`. @default - none */
  readonly extraGuardSettings?: ReadonlyArray<readonly [string, string]>;
  /**
   * Linux: how the cloud tells a node it is about to be replaced (rolling update, scale-in).
   * The node then runs a watcher that steps an active guard down, stops the guard and lets
   * the replacement go on. @default - none (the shutdown's guard stop still releases the lease)
   */
  readonly replacementNotice?: ReplacementNotice;
  /**
   * Windows: where the load balancer's health probes come from (the guard's port admits only
   * these in Windows Firewall): the NLB's subnets on AWS. @default - Azure (a guard from a blob):
   * `168.63.129.16`; otherwise any source (the security group scopes the port)
   */
  readonly healthProbeSources?: readonly string[];
  /** ThinPrint only: client-keys secret and (dns-multicast) the nodes' subnets. @default - none */
  readonly thinprint?: ThinPrintNodeSettings;
}

export type ReplacementNotice =
  /** AWS: the auto scaling group's termination lifecycle hook (IMDSv2 target lifecycle state). */
  | { readonly kind: 'aws-lifecycle-hook'; readonly autoScalingGroupName: string; readonly hookName: string; readonly region: string }
  /** Azure: the scale set's termination notification (a Terminate scheduled event). */
  | { readonly kind: 'azure-scheduled-events' };

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

export type GuardBinarySource =
  /** Downloaded with the instance role (IMDSv2 credentials). */
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string; readonly region: string; readonly sha256: string }
  /** Downloaded with a managed-identity token from the instance metadata service. */
  | { readonly kind: 'azure-blob'; readonly url: string; readonly sha256: string; readonly managedIdentityClientId?: string };
