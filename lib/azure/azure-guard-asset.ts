import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import { StorageAccount } from '@cdktf/provider-azurerm/lib/storage-account';
import { StorageBlob } from '@cdktf/provider-azurerm/lib/storage-blob';
import { StorageContainer } from '@cdktf/provider-azurerm/lib/storage-container';
import type { GuardBinaryFetch } from '../boot/platform';
import { azureGuardBlob } from './azure-node-platform';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { guardBinaryProblems } from '../synth/guard-binary';
import { AzureRoleAssignmentWait } from './azure-rbac-propagation';
import { compressedGuardBinary, defaultGuardBinary } from '../synth/guard-build';
import { throwIfProblems } from '../problems/problems';
import { clusterTags } from '../spec/tags';
import { clientConfig, globalName, storageAccountNameProblems, type AzurePlacement, placementOf } from './azure-support';

/** Properties of an {@link AzureGuardAsset}. */
export interface AzureGuardAssetProps extends AzurePlacement {
  /** The parsed cluster spec (names and tags). */
  readonly spec: ClusterSpec;
  /**
   * The failover-guard single executable.
   * @default - built at synth from this package's guard and the pinned Node runtime (linux-x64, or win-x64 for Windows profiles), cached per user
   */
  readonly binaryPath?: string;
  /** Principal (the app servers' managed identity) that may read the blob. */
  readonly readerPrincipalId: string;
  /**
   * Storage account name (3–24 lower-case letters and digits, globally unique).
   * @default - `<name>gb<hash>`
   */
  readonly storageAccountName?: string;
}

/**
 * The guard binary, gzip-compressed, as a TerraformAsset, uploaded to a private container of a StorageV2 account
 * that accepts only Entra ID (no shared keys, no anonymous access, TLS 1.2, HTTPS only). The
 * app servers' managed identity gets "Storage Blob Data Reader" on this container only, and
 * the boot script decompresses the download and checks the binary's SHA-256. The blob name carries the hash, so a new
 * binary is a new blob and a new boot script.
 *
 * Shared keys are off, so the azurerm provider must use Entra ID for data-plane calls:
 * `storageUseAzuread: true` in the provider block; the deploying principal gets
 * "Storage Blob Data Contributor" on the container here.
 */
export class AzureGuardAsset extends Construct {
  /** The StorageV2 account holding the container (Entra ID only, no shared keys). */
  public readonly storageAccount: StorageAccount;
  /** The private container `failover-guard`. */
  public readonly container: StorageContainer;
  /** The compressed guard binary's blob; its name carries the binary's hash. */
  public readonly blob: StorageBlob;
  /** The gzip-compressed binary as a Terraform asset (copied into the synth output). */
  public readonly asset: TerraformAsset;
  /** Hex SHA-256 of the binary (the decompressed bytes). */
  public readonly sha256: string;
  /** The app servers' Storage Blob Data Reader grant on the container: boot after it. */
  public readonly readerRoleAssignment: RoleAssignment;

  constructor(scope: Construct, id: string, props: AzureGuardAssetProps) {
    super(scope, id);
    throwIfProblems(this.node.path, guardAssetProblems(props));
    const { spec } = props;
    const tags = clusterTags(spec);
    const placement = placementOf(props);
    const binaryPath = props.binaryPath ?? defaultGuardBinary(spec.profile.os);
    const compressed = compressedGuardBinary(binaryPath);
    this.sha256 = compressed.sha256;

    this.storageAccount = new StorageAccount(this, 'account', {
      ...placement,
      name: props.storageAccountName ?? globalName(this, placement, spec, 'gb'),
      accountKind: 'StorageV2',
      accountTier: 'Standard',
      accountReplicationType: 'ZRS',
      minTlsVersion: 'TLS1_2',
      httpsTrafficOnlyEnabled: true,
      allowNestedItemsToBePublic: false,
      sharedAccessKeyEnabled: false,
      defaultToOauthAuthentication: true,
      blobProperties: { versioningEnabled: true, deleteRetentionPolicy: { days: 7 } },
      tags,
    });
    this.container = new StorageContainer(this, 'container', {
      name: 'failover-guard',
      storageAccountId: this.storageAccount.id,
      containerAccessType: 'private',
    });
    const uploader = new RoleAssignment(this, 'deployer-blob-contributor', {
      scope: this.container.id,
      roleDefinitionName: 'Storage Blob Data Contributor',
      principalId: clientConfig(this).objectId,
    });
    // Named by the binary's hash: the .gz follows from the binary, and the synthesized paths do
    // not depend on the zlib build that compressed it. It also spares cdktf a read of the file.
    this.asset = new TerraformAsset(this, 'binary', { path: compressed.path, type: AssetType.FILE, assetHash: this.sha256.slice(0, 32).toUpperCase() });
    this.blob = new StorageBlob(this, 'blob', {
      name: `failover-guard-${this.sha256.slice(0, 16)}${binaryPath.endsWith('.exe') ? '.exe' : ''}.gz`,
      storageAccountName: this.storageAccount.name,
      storageContainerName: this.container.name,
      type: 'Block',
      source: this.asset.path,
      // not `contentEncoding: gzip`: the node stores and decompresses the file itself
      contentType: 'application/gzip',
      metadata: { sha256: this.sha256 },
      // uploaded once the role has propagated (an upload right after the grant gets 403)
      dependsOn: [new AzureRoleAssignmentWait(this, 'deployer-blob-contributor-propagation', { assignments: [uploader] })],
    });
    this.readerRoleAssignment = new RoleAssignment(this, 'reader', {
      scope: this.container.id,
      roleDefinitionName: 'Storage Blob Data Reader',
      principalId: props.readerPrincipalId,
    });
  }

  /** Where the boot script downloads the binary from (with the node's managed identity, see azureNodePlatform). */
  public get source(): GuardBinaryFetch {
    return azureGuardBlob({ url: this.blob.url, sha256: this.sha256 });
  }

  /** The private container's name (`failover-guard`). */
  public get containerName(): string {
    return this.container.name;
  }

  /** The guard blob's URL (`https://<account>.blob.core.windows.net/failover-guard/failover-guard-<sha>.gz`), readable only with Entra ID. */
  public get url(): string {
    return this.blob.url;
  }
}

/** Every problem of these props (AzureFailoverCluster checks them before it builds anything). */
export function guardAssetProblems(props: AzureGuardAssetProps): Problem[] {
  const problems = storageAccountNameProblems('storageAccountName', props.storageAccountName);
  if (!props.readerPrincipalId) problems.push({ path: 'readerPrincipalId', message: 'required: the identity that downloads the guard' });
  return [...problems, ...guardBinaryProblems('binaryPath', props.binaryPath)];
}
