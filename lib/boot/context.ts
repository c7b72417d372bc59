import type { GuardDatabaseSettings } from '../spec/guard-settings';
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
  /** Extra guard config entries (key → value), e.g. `notify.command`. @default - none */
  readonly extraGuardSettings?: ReadonlyArray<readonly [string, string]>;
  /** ThinPrint only: client-keys secret and (dns-multicast) the nodes' subnets. @default - none */
  readonly thinprint?: ThinPrintNodeSettings;
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
      /** Secret holding `{"username":…,"password":…}`; same syntax as database.password-source. */
      readonly credentialsSecretRef?: string;
      readonly mountOptions?: readonly string[];
    };

export type GuardBinarySource =
  /** Downloaded with the instance role (IMDSv2 credentials). */
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string; readonly region: string; readonly sha256: string }
  /** Downloaded with a managed-identity token from the instance metadata service. */
  | { readonly kind: 'azure-blob'; readonly url: string; readonly sha256: string; readonly managedIdentityClientId?: string };
