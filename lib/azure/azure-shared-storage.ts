import { Fn, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { KeyVaultSecret } from '@cdktf/provider-azurerm/lib/key-vault-secret';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import { PrivateDnsZone } from '@cdktf/provider-azurerm/lib/private-dns-zone';
import { PrivateDnsZoneVirtualNetworkLink } from '@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link';
import { PrivateEndpoint } from '@cdktf/provider-azurerm/lib/private-endpoint';
import { StorageAccount } from '@cdktf/provider-azurerm/lib/storage-account';
import { StorageShare } from '@cdktf/provider-azurerm/lib/storage-share';
import { BackupContainerStorageAccount } from '@cdktf/provider-azurerm/lib/backup-container-storage-account';
import { BackupPolicyFileShare } from '@cdktf/provider-azurerm/lib/backup-policy-file-share';
import { BackupProtectedFileShare } from '@cdktf/provider-azurerm/lib/backup-protected-file-share';
import { RecoveryServicesVault } from '@cdktf/provider-azurerm/lib/recovery-services-vault';
import { NetworkSecurityGroup, type NetworkSecurityGroupSecurityRule } from '@cdktf/provider-azurerm/lib/network-security-group';
import { SubnetNetworkSecurityGroupAssociation } from '@cdktf/provider-azurerm/lib/subnet-network-security-group-association';
import type { ShareMount } from '../boot/context';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { throwIfProblems } from '../problems/problems';
import { clusterTags } from '../spec/tags';
import { azureIdProblems, globalName, storageAccountNameProblems, subnetLookup, type AzurePlacement, placementOf } from './azure-support';
import { requireWriteOnlyArguments } from '../synth/terraform-version';
import { keyVaultSecretReference, secretReferenceProblem } from '../contracts/secret-reference';

/**
 * Azure Files NFS options on top of the boot script's NFS 4.1 set (which already says
 * `nfsvers=4.1`; a second `vers=4,minorversion=1` would only repeat it).
 */
export const AZURE_NFS_MOUNT_OPTIONS = ['sec=sys', 'nconnect=4'] as const;
/** The private DNS zone Azure Files private endpoints resolve through. */
export const FILE_PRIVATE_DNS_ZONE = 'privatelink.file.core.windows.net';

const NFS_PORT = 2049;
const SMB_PORT = 445;

/** Properties of an {@link AzureSharedStorage}. */
export interface AzureSharedStorageProps extends AzurePlacement {
  /** The parsed cluster spec: `storage` (kind nfs | smb, size, SMB credentials). */
  readonly spec: ClusterSpec;
  /**
   * Subnet for the storage account's private endpoint. Its private endpoint network policies
   * must be enabled (`private_endpoint_network_policies = "Enabled"`), or no NSG filters traffic
   * to the endpoint: the plan fails naming this prop otherwise.
   */
  readonly privateEndpointSubnetId: string;
  /**
   * The app servers' subnet: the only source allowed to reach the share (2049 NFS, 445 SMB).
   * The share holds the app's configuration (PaperCut's server.properties with its database
   * password), and NFS authenticates nobody (`sec=sys`).
   */
  readonly clientSubnetId: string;
  /**
   * Create an NSG with those rules and associate it with the private endpoint subnet. Set false
   * when that subnet has an NSG of yours already, and add {@link AzureSharedStorage.privateEndpointSecurityRules} to it.
   * @default true
   */
  readonly privateEndpointNetworkSecurityGroup?: boolean;
  /**
   * Virtual network linked to the new private DNS zone; required with `createPrivateDnsZone`.
   * @default - none
   */
  readonly virtualNetworkId?: string;
  /**
   * The existing `privatelink.file.core.windows.net` zone the virtual network resolves through
   * (hub and spoke, or a second cluster): a virtual network links to one zone of that name
   * only, so a new zone would be refused. Give this or `createPrivateDnsZone`.
   * @default - none
   */
  readonly privateDnsZoneId?: string;
  /**
   * Create the zone in the resource group and link `virtualNetworkId` to it (no zone of that name is linked yet).
   * @default false
   */
  readonly createPrivateDnsZone?: boolean;
  /**
   * Storage account name (3–24 lower-case letters and digits, globally unique).
   * @default - `<name>fs<hash>`
   */
  readonly storageAccountName?: string;
  /**
   * Name of the share.
   * @default 'failover'
   */
  readonly shareName?: string;
  /**
   * Premium FileStorage supports LRS and ZRS.
   * @default 'ZRS'
   */
  readonly replication?: 'LRS' | 'ZRS';
  /**
   * SMB without `spec.storage.credentialsSecretRef`: the Key Vault (RBAC) that receives the
   * share's credentials (the storage account key, known only at apply time).
   * @default - none; then SMB needs spec.storage.credentialsSecretRef
   */
  readonly keyVaultId?: string;
  /**
   * The deploying principal's Secrets Officer role on that vault, so the secret is written after it.
   * @default - none
   */
  readonly keyVaultWriter?: ITerraformDependable;
  /**
   * Protect the share's data (the app's configuration and data): share soft delete (14 days)
   * and, for SMB, a daily Azure Backup kept 30 days in a Recovery Services vault. Azure Backup
   * takes no NFS shares (see docs/azure.md): take snapshots of an NFS share yourself.
   * @default true
   */
  readonly backup?: boolean;
  /**
   * Bump after rotating the storage account key, so the credentials secret is written again.
   * @default 1
   */
  readonly credentialsVersion?: number;
  /**
   * Principal (the nodes' identity) granted Key Vault Secrets User on the credentials secret.
   * @default - no grant
   */
  readonly readerPrincipalId?: string;
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
export class AzureSharedStorage extends Construct {
  /** The premium FileStorage account. */
  public readonly storageAccount: StorageAccount;
  /** The NFS or SMB share. */
  public readonly share: StorageShare;
  /** The private endpoint the nodes reach the account through: boot after it. */
  public readonly privateEndpoint: PrivateEndpoint;
  /** The `privatelink.file.core.windows.net` zone, when created here (`createPrivateDnsZone`). */
  public readonly privateDnsZone?: PrivateDnsZone;
  /** That zone's link to the virtual network: the nodes resolve the share through it, so boot after it. */
  public readonly privateDnsZoneLink?: PrivateDnsZoneVirtualNetworkLink;
  /** The storage account's name, known at plan time (given, or `<name>fs<hash>`). */
  public readonly storageAccountName: string;
  /** `acct.file.core.windows.net:/acct/share` (NFS) or `//acct.file.core.windows.net/share` (SMB). */
  public readonly address: string;
  /** How the nodes mount the share (the boot script's `share`). */
  public readonly mount: ShareMount;
  /** SMB: the Key Vault secret `{"username":"localhost\\<account>","password":<account key>}` the nodes map the share with. */
  public readonly credentialsSecret?: KeyVaultSecret;
  /** The nodes' read grant on {@link credentialsSecret}: boot after it. */
  public readonly readerRoleAssignments: RoleAssignment[] = [];
  /** Inbound rules for the private endpoint's subnet: the share's port from the client subnet only. */
  public readonly privateEndpointSecurityRules: NetworkSecurityGroupSecurityRule[];
  /** The NSG of the private endpoint subnet, when created here (`privateEndpointNetworkSecurityGroup`). */
  public readonly privateEndpointNsg?: NetworkSecurityGroup;
  /** SMB with `backup`: the Recovery Services vault holding the share's daily backups. */
  public readonly backupVault?: RecoveryServicesVault;
  /** SMB with `backup`: the share's protection by that vault's daily policy. */
  public readonly protectedShare?: BackupProtectedFileShare;

  constructor(scope: Construct, id: string, props: AzureSharedStorageProps) {
    super(scope, id);
    // passwords and keys go through write-only arguments (`*_wo`): Terraform ≥ 1.11
    requireWriteOnlyArguments(this);
    throwIfProblems(this.node.path, sharedStorageProblems(props));
    const { spec } = props;
    const nfs = spec.storage.kind === 'nfs';
    const tags = clusterTags(spec);
    const placement = placementOf(props);
    const shareName = props.shareName ?? 'failover';
    const backup = props.backup ?? true;
    // The name itself (not the resource's attribute), so the mount address is known at plan time.
    const accountName = props.storageAccountName ?? globalName(this, placement, spec, 'fs');
    this.storageAccountName = accountName;

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
      shareProperties: {
        ...(nfs ? {} : { smb: { versions: ['SMB3.1.1'], channelEncryptionType: ['AES-256-GCM'] } }),
        // share soft delete: a deleted share can be undeleted for 14 days (SMB and NFS)
        ...(backup ? { retentionPolicy: { days: 14 } } : {}),
      },
      tags,
    });
    this.share = new StorageShare(this, 'share', {
      name: shareName,
      storageAccountId: this.storageAccount.id,
      quota: spec.storage.sizeGb,
      enabledProtocol: nfs ? 'NFS' : 'SMB',
    });

    if (backup && !nfs) {
      // Azure Backup reaches the account through the trusted-services bypass of its network rules.
      this.backupVault = new RecoveryServicesVault(this, 'backup-vault', { ...placement, name: `${spec.name}-share-backup`, sku: 'Standard', softDeleteEnabled: true, tags });
      const vault = { resourceGroupName: props.resourceGroupName, recoveryVaultName: this.backupVault.name };
      const container = new BackupContainerStorageAccount(this, 'backup-container', { ...vault, storageAccountId: this.storageAccount.id });
      const policy = new BackupPolicyFileShare(this, 'backup-policy', {
        ...vault,
        name: 'daily-30-days',
        timezone: 'UTC',
        backup: { frequency: 'Daily', time: '02:00' },
        retentionDaily: { count: 30 },
      });
      this.protectedShare = new BackupProtectedFileShare(this, 'backup', {
        ...vault,
        sourceStorageAccountId: this.storageAccount.id,
        sourceFileShareName: this.share.name,
        backupPolicyId: policy.id,
        dependsOn: [container],
      });
    }

    let zoneId = props.privateDnsZoneId;
    if (props.createPrivateDnsZone) {
      this.privateDnsZone = new PrivateDnsZone(this, 'dns-zone', { resourceGroupName: props.resourceGroupName, name: FILE_PRIVATE_DNS_ZONE, tags });
      this.privateDnsZoneLink = new PrivateDnsZoneVirtualNetworkLink(this, 'dns-link', {
        name: `${spec.name}-files`,
        resourceGroupName: props.resourceGroupName,
        privateDnsZoneName: this.privateDnsZone.name,
        virtualNetworkId: props.virtualNetworkId!,
        registrationEnabled: false,
        tags,
      });
      zoneId = this.privateDnsZone.id;
    }
    // Only the app servers reach the share: an NSG on the endpoint's subnet, which filters
    // private endpoint traffic only with the subnet's network policies enabled.
    const endpointSubnet = subnetLookup(this, 'endpoint-subnet', props.privateEndpointSubnetId);
    const clients = subnetLookup(this, 'client-subnet', props.clientSubnetId);
    const port = String(nfs ? NFS_PORT : SMB_PORT);
    this.privateEndpointSecurityRules = [
      {
        name: `allow-app-servers-${nfs ? 'nfs' : 'smb'}`,
        description: `The app servers' subnet to the share (${nfs ? 'NFS' : 'SMB'})`,
        priority: 100,
        direction: 'Inbound',
        access: 'Allow',
        protocol: 'Tcp',
        sourcePortRange: '*',
        sourceAddressPrefixes: clients.addressPrefixes,
        destinationAddressPrefix: '*',
        destinationPortRange: port,
      },
      {
        name: `deny-others-${nfs ? 'nfs' : 'smb'}`,
        description: 'Nobody else reaches the share (other endpoints in this subnet are not affected)',
        priority: 4000,
        direction: 'Inbound',
        access: 'Deny',
        protocol: '*',
        sourcePortRange: '*',
        sourceAddressPrefix: '*',
        destinationAddressPrefix: '*',
        destinationPortRange: port,
      },
    ];
    if (props.privateEndpointNetworkSecurityGroup ?? true) {
      this.privateEndpointNsg = new NetworkSecurityGroup(this, 'endpoint-nsg', {
        ...placement,
        name: `${spec.name}-files-pe`,
        securityRule: this.privateEndpointSecurityRules,
        tags,
      });
      new SubnetNetworkSecurityGroupAssociation(this, 'endpoint-nsg-association', {
        subnetId: props.privateEndpointSubnetId,
        networkSecurityGroupId: this.privateEndpointNsg.id,
        lifecycle: {
          precondition: [
            {
              condition: `\${${endpointSubnet.fqn}.network_security_group_id == "" || lower(${endpointSubnet.fqn}.network_security_group_id) == lower(${this.privateEndpointNsg.fqn}.id)}`,
              errorMessage:
                'privateEndpointSubnetId: the subnet has a network security group of its own; set privateEndpointNetworkSecurityGroup: false and add the rules of privateEndpointSecurityRules to that group.',
            },
          ],
        },
      });
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
      lifecycle: {
        precondition: [
          {
            condition: `\${contains(["Enabled", "NetworkSecurityGroupEnabled"], ${endpointSubnet.fqn}.private_endpoint_network_policies)}`,
            errorMessage:
              'privateEndpointSubnetId: private endpoint network policies are disabled on this subnet, so no NSG filters traffic to the share; set private_endpoint_network_policies = "Enabled" on the subnet.',
          },
        ],
      },
    });

    // The public name resolves to the private endpoint through the privatelink zone.
    const host = `${accountName}.file.core.windows.net`;
    this.address = nfs ? `${host}:/${accountName}/${shareName}` : `//${host}/${shareName}`;
    let credentialsSecretRef = spec.storage.credentialsSecretRef;
    if (!nfs && credentialsSecretRef === undefined) {
      // The account key exists only after apply: Terraform writes it into Key Vault, the boot
      // script reads it with the node identity (Windows: a global SMB mapping for the services).
      this.credentialsSecret = new KeyVaultSecret(this, 'smb-credentials', {
        name: `${spec.name}-smb-credentials`,
        keyVaultId: props.keyVaultId!,
        // two backslashes: HCL's escape for one, so the JSON holds localhost\<account>
        // write-only: the key stays out of this secret's state; a rotated key needs credentialsVersion + 1
        valueWo: Fn.jsonencode({ username: `localhost\\\\${accountName}`, password: this.storageAccount.primaryAccessKey }),
        valueWoVersion: props.credentialsVersion ?? 1,
        contentType: `SMB credentials of //${host}/${shareName}`,
        tags,
        dependsOn: props.keyVaultWriter ? [props.keyVaultWriter] : undefined,
      });
      if (props.readerPrincipalId) {
        this.readerRoleAssignments.push(
          new RoleAssignment(this, 'smb-credentials-reader', {
            scope: this.credentialsSecret.resourceVersionlessId,
            roleDefinitionName: 'Key Vault Secrets User',
            principalId: props.readerPrincipalId,
          }),
        );
      }
      credentialsSecretRef = keyVaultSecretReference(this.credentialsSecret.versionlessId);
    }
    this.mount = nfs
      ? { kind: 'nfs', address: this.address, mountOptions: [...AZURE_NFS_MOUNT_OPTIONS] }
      : { kind: 'smb', address: this.address, credentialsSecretRef };
  }

  /** The storage account's Azure resource id. */
  public get storageId(): string {
    return this.storageAccount.id;
  }

  /** The share's DNS name, `<account>.file.core.windows.net` (it resolves to the private endpoint inside the virtual network). */
  public get dnsName(): string {
    return `${this.storageAccountName}.file.core.windows.net`;
  }
}

/** Every problem of these props (AzureFailoverCluster checks them before it builds anything). */
export function sharedStorageProblems(props: AzureSharedStorageProps): Problem[] {
  const problems = storageAccountNameProblems('storageAccountName', props.storageAccountName);
  if (props.shareName !== undefined && !/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(props.shareName)) {
    problems.push({ path: 'shareName', message: `"${props.shareName}" must be 3–63 lower-case letters, digits and single dashes` });
  }
  if (!props.privateEndpointSubnetId) problems.push({ path: 'privateEndpointSubnetId', message: 'required: the share is reachable only through a private endpoint' });
  if (!props.clientSubnetId) problems.push({ path: 'clientSubnetId', message: "required: the app servers' subnet, the only one allowed to reach the share" });
  problems.push(...azureIdProblems('privateEndpointSubnetId', props.privateEndpointSubnetId, 'subnet'), ...azureIdProblems('clientSubnetId', props.clientSubnetId, 'subnet'));
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
  const storage = props.spec.storage;
  if (storage.kind === 'smb') {
    const ref = storage.credentialsSecretRef;
    if (ref === undefined && !props.keyVaultId) {
      problems.push({ path: 'keyVaultId', message: 'SMB needs a Key Vault for the share credentials (or set spec.storage.credentialsSecretRef)' });
    }
    const refProblem = ref === undefined ? undefined : secretReferenceProblem(ref, 'smb-credentials', 'azure');
    if (refProblem !== undefined) problems.push({ path: 'spec.storage.credentialsSecretRef', message: refProblem });
  }
  return problems;
}
