import { Construct } from 'constructs';
import { PrivateDnsZone } from '@cdktf/provider-azurerm/lib/private-dns-zone';
import { PrivateDnsZoneVirtualNetworkLink } from '@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link';
import { PrivateEndpoint } from '@cdktf/provider-azurerm/lib/private-endpoint';
import { StorageAccount } from '@cdktf/provider-azurerm/lib/storage-account';
import { StorageShare } from '@cdktf/provider-azurerm/lib/storage-share';
import type { ShareMount } from '../boot/context';
import type { Problem } from '../core/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { clusterTags, globalName, storageAccountNameProblems, throwIfProblems, type AzurePlacement, placementOf } from './names';

/**
 * Azure Files NFS options on top of the boot script's NFS 4.1 set (which already says
 * `nfsvers=4.1`; a second `vers=4,minorversion=1` would only repeat it).
 */
export const AZURE_NFS_MOUNT_OPTIONS = ['sec=sys', 'nconnect=4'] as const;
export const FILE_PRIVATE_DNS_ZONE = 'privatelink.file.core.windows.net';

export interface AzureFileShareProps extends AzurePlacement {
  /** The parsed cluster spec: `storage` (kind nfs | smb, size, SMB credentials). */
  readonly spec: ClusterSpec;
  /** Subnet for the storage account's private endpoint. */
  readonly privateEndpointSubnetId: string;
  /** Virtual network linked to the new private DNS zone; required with `createPrivateDnsZone`. @default - none */
  readonly virtualNetworkId?: string;
  /**
   * The existing `privatelink.file.core.windows.net` zone the virtual network resolves through
   * (hub and spoke, or a second cluster): a virtual network links to one zone of that name
   * only, so a new zone would be refused. Give this or `createPrivateDnsZone`.
   * @default - none
   */
  readonly privateDnsZoneId?: string;
  /** Create the zone in the resource group and link `virtualNetworkId` to it (no zone of that name is linked yet). @default false */
  readonly createPrivateDnsZone?: boolean;
  /** Storage account name (3–24 lower-case letters and digits, globally unique). @default - `<name>fs<hash>` */
  readonly storageAccountName?: string;
  /** @default 'failover' */
  readonly shareName?: string;
  /** Premium FileStorage supports LRS and ZRS. @default 'ZRS' */
  readonly replication?: 'LRS' | 'ZRS';
}

/**
 * The shared files of the cluster (PaperCut's server.properties, data/, …): a premium
 * FileStorage account with one NFS 4.1 or SMB 3 share, reachable only through a private
 * endpoint (public network access off, network rules default Deny, private DNS zone
 * `privatelink.file.core.windows.net`), TLS 1.2 minimum, no public blob access.
 *
 * NFS note: Azure Files NFS does not run over TLS, and Azure refuses NFS shares on an account
 * that requires secure transfer, so `https_traffic_only_enabled` is false for NFS (only). The
 * account is then reachable only from the private endpoint's virtual network.
 */
export class AzureFileShare extends Construct {
  public readonly storageAccount: StorageAccount;
  public readonly share: StorageShare;
  public readonly privateEndpoint: PrivateEndpoint;
  public readonly privateDnsZone?: PrivateDnsZone;
  /** `acct.file.core.windows.net:/acct/share` (NFS) or `//acct.file.core.windows.net/share` (SMB). */
  public readonly address: string;
  /** How the nodes mount the share (the boot script's `share`). */
  public readonly mount: ShareMount;

  constructor(scope: Construct, id: string, props: AzureFileShareProps) {
    super(scope, id);
    throwIfProblems('AzureFileShare props', fileShareProblems(props));
    const { spec } = props;
    const nfs = spec.storage.kind === 'nfs';
    const tags = clusterTags(spec);
    const placement = placementOf(props);
    const shareName = props.shareName ?? 'failover';
    // The name itself (not the resource's attribute), so the mount address is known at plan time.
    const accountName = props.storageAccountName ?? globalName(this, placement, spec, 'fs');

    this.storageAccount = new StorageAccount(this, 'account', {
      ...placement,
      name: accountName,
      accountKind: 'FileStorage',
      accountTier: 'Premium',
      accountReplicationType: props.replication ?? 'ZRS',
      minTlsVersion: 'TLS1_2',
      httpsTrafficOnlyEnabled: !nfs,
      allowNestedItemsToBePublic: false,
      publicNetworkAccessEnabled: false,
      // NFS authenticates by network; SMB on Linux mounts with the account key from the credentials secret.
      sharedAccessKeyEnabled: !nfs,
      networkRules: { defaultAction: 'Deny', bypass: ['AzureServices'] },
      shareProperties: nfs ? undefined : { smb: { versions: ['SMB3.1.1'], channelEncryptionType: ['AES-256-GCM'] } },
      tags,
    });
    this.share = new StorageShare(this, 'share', {
      name: shareName,
      storageAccountId: this.storageAccount.id,
      quota: spec.storage.sizeGb,
      enabledProtocol: nfs ? 'NFS' : 'SMB',
    });

    let zoneId = props.privateDnsZoneId;
    if (props.createPrivateDnsZone) {
      this.privateDnsZone = new PrivateDnsZone(this, 'dns-zone', { resourceGroupName: props.resourceGroupName, name: FILE_PRIVATE_DNS_ZONE, tags });
      new PrivateDnsZoneVirtualNetworkLink(this, 'dns-link', {
        name: `${spec.name}-files`,
        resourceGroupName: props.resourceGroupName,
        privateDnsZoneName: this.privateDnsZone.name,
        virtualNetworkId: props.virtualNetworkId!,
        registrationEnabled: false,
        tags,
      });
      zoneId = this.privateDnsZone.id;
    }
    this.privateEndpoint = new PrivateEndpoint(this, 'endpoint', {
      ...placement,
      name: `${spec.name}-files-pe`,
      subnetId: props.privateEndpointSubnetId,
      privateServiceConnection: {
        name: `${spec.name}-files`,
        privateConnectionResourceId: this.storageAccount.id,
        subresourceNames: ['file'],
        isManualConnection: false,
      },
      privateDnsZoneGroup: { name: 'files', privateDnsZoneIds: [zoneId!] },
      tags,
    });

    // The public name resolves to the private endpoint through the privatelink zone.
    const host = `${accountName}.file.core.windows.net`;
    this.address = nfs ? `${host}:/${accountName}/${shareName}` : `//${host}/${shareName}`;
    this.mount = nfs
      ? { kind: 'nfs', address: this.address, mountOptions: [...AZURE_NFS_MOUNT_OPTIONS] }
      : { kind: 'smb', address: this.address, credentialsSecretRef: spec.storage.credentialsSecretRef };
  }
}

export function fileShareProblems(props: AzureFileShareProps): Problem[] {
  const problems = storageAccountNameProblems('storageAccountName', props.storageAccountName);
  if (props.shareName !== undefined && !/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(props.shareName)) {
    problems.push({ path: 'shareName', message: `"${props.shareName}" must be 3–63 lower-case letters, digits and single dashes` });
  }
  if (!props.privateEndpointSubnetId) problems.push({ path: 'privateEndpointSubnetId', message: 'required: the share is reachable only through a private endpoint' });
  if (props.createPrivateDnsZone && props.privateDnsZoneId) {
    problems.push({ path: 'createPrivateDnsZone', message: 'give either an existing zone (privateDnsZoneId) or createPrivateDnsZone, not both' });
  } else if (props.createPrivateDnsZone && !props.virtualNetworkId) {
    problems.push({ path: 'virtualNetworkId', message: 'required with createPrivateDnsZone: the new zone is linked to it' });
  } else if (!props.createPrivateDnsZone && !props.privateDnsZoneId) {
    problems.push({
      path: 'privateDnsZoneId',
      message: `required: the id of the ${FILE_PRIVATE_DNS_ZONE} zone your virtual network resolves through (a network links to one such zone only), or set createPrivateDnsZone: true`,
    });
  }
  return problems;
}
