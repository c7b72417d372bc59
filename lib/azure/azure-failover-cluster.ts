import { Construct } from 'constructs';
import { ResourceGroup } from '@cdktf/provider-azurerm/lib/resource-group';
import { UserAssignedIdentity } from '@cdktf/provider-azurerm/lib/user-assigned-identity';
import type { GuardNodeContext } from '../boot/context';
import { bootSpecProblems, parseSpecProp, renamed, uniqueProblems } from '../synth/construct-problems';
import type { Problem } from '../problems/problems';
import type { ClusterSpec, ClusterSpecInput } from '../spec/cluster-spec';
import { AzureAlarms, alarmsProblems } from './azure-alarms';
import { AzureAppServers, appServersProblems, type AzureImageReference } from './azure-app-servers';
import { AzureDatabase, databaseProblems, type AzureDatabaseProps } from './azure-database';
import { AzureSharedStorage, sharedStorageProblems } from './azure-shared-storage';
import { AzureGuardAsset, guardAssetProblems } from './azure-guard-asset';
import { AzureLoadBalancer, loadBalancerProblems } from './azure-load-balancer';
import { guardBinaryProblems } from '../synth/guard-binary';
import { throwIfProblems } from '../problems/problems';
import { clusterTags } from '../spec/tags';
import { azureIdProblems, storageAccountNameProblems, subnetInNetwork, type AzurePlacement, placementOf } from './azure-support';
import { AzureThinPrintClientKeys, azureThinPrintProblems, type AzureThinPrintProps } from './azure-thinprint';
import { DnsARecord } from '@cdktf/provider-azurerm/lib/dns-a-record';
import { AzureRoleAssignmentWait } from './azure-rbac-propagation';
import { requireWriteOnlyArguments } from '../synth/terraform-version';

/** Properties of an {@link AzureFailoverCluster}: the spec and the existing network it is built in. */
export interface AzureFailoverClusterProps extends AzurePlacement {
  /** The cluster: a spec input (parsed here, at construct time) or an already parsed spec. */
  readonly spec: ClusterSpecInput | ClusterSpec;
  /**
   * Create `resourceGroupName` in `location` instead of using an existing group.
   * @default false
   */
  readonly createResourceGroup?: boolean;
  /** The virtual network holding the three subnets (private DNS zones are linked to it). */
  readonly virtualNetworkId: string;
  /** Subnet of the app servers and the internal load balancer frontend. */
  readonly appSubnetId: string;
  /** Subnet for private endpoints (the file share), with private endpoint network policies enabled (an NSG filters the share's endpoint). */
  readonly privateEndpointSubnetId: string;
  /**
   * Create an NSG on the private endpoint subnet that lets only `appSubnetId` reach the share;
   * false when the subnet has an NSG of yours (add `storage.privateEndpointSecurityRules` to it).
   * @default true
   */
  readonly privateEndpointNetworkSecurityGroup?: boolean;
  /**
   * OpenSSH public key of the nodes' admin user; required on Linux. No key is built in.
   * @default - none (Windows profiles use `windowsAdminPassword`)
   */
  readonly adminSshPublicKey?: string;
  /**
   * Windows only; see AzureAppServersProps.windowsAdminPassword.
   * @default - generated
   */
  readonly windowsAdminPassword?: string;
  /**
   * The guard single executable.
   * @default - built at synth from this package's guard and the pinned Node runtime, cached per user
   */
  readonly binaryPath?: string;
  /**
   * Size of the nodes.
   * @default 'Standard_D2s_v5'
   */
  readonly vmSize?: string;
  /**
   * Availability zones of the nodes and the load balancer frontend.
   * @default ['1', '2', '3']
   */
  readonly zones?: readonly string[];
  /**
   * Marketplace image of the nodes.
   * @default - Ubuntu 22.04 LTS / Windows Server 2022
   */
  readonly image?: AzureImageReference;
  /**
   * Custom image (managed image or shared image gallery); see AzureAppServersProps.sourceImageId.
   * @default - the marketplace `image`
   */
  readonly sourceImageId?: string;
  /**
   * Trusted Launch of the nodes; see AzureAppServersProps.trustedLaunch.
   * @default true
   */
  readonly trustedLaunch?: boolean;
  /**
   * Commands run at first boot before the boot script; see AzureAppServersProps.installCommands.
   * @default - none
   */
  readonly installCommands?: readonly string[];
  /**
   * Fixed private address of the internal load balancer.
   * @default - dynamic
   */
  readonly frontendPrivateIp?: string;
  /**
   * The DNS name clients use for the load balancer (PaperCut's `system.network-address`, the
   * user client's server-name).
   * @default - the load balancer's frontend IP address
   */
  readonly networkAddress?: string;
  /**
   * Name of the cluster's Key Vault (globally unique).
   * @default - derived, see AzureDatabaseProps.keyVaultName
   */
  readonly keyVaultName?: string;
  /**
   * Back up the share (soft delete; SMB: daily Azure Backup kept 30 days); see AzureSharedStorageProps.backup.
   * @default true
   */
  readonly shareBackup?: boolean;
  /**
   * Name of the file share's storage account (globally unique).
   * @default - derived, see AzureSharedStorageProps.storageAccountName
   */
  readonly fileStorageAccountName?: string;
  /**
   * Name of the guard binary's storage account (globally unique).
   * @default - derived, see AzureGuardAssetProps.storageAccountName
   */
  readonly guardStorageAccountName?: string;
  /**
   * The existing `privatelink.file.core.windows.net` zone the virtual network resolves through; give this or `createFilePrivateDnsZone`.
   * @default - none
   */
  readonly filePrivateDnsZoneId?: string;
  /**
   * Create that zone and link the virtual network (no such zone is linked to it yet).
   * @default false
   */
  readonly createFilePrivateDnsZone?: boolean;
  /**
   * The database's options, as on AWS: `delegatedSubnetId` (a subnet delegated to
   * `Microsoft.DBforPostgreSQL/flexibleServers` or `Microsoft.DBforMySQL/flexibleServers`,
   * required unless `spec.database.existing`), `serverName`, `privateDnsZoneId`; see AzureDatabaseProps.
   * @default - none (required unless `spec.database.existing`)
   */
  readonly database?: Pick<AzureDatabaseProps, 'delegatedSubnetId' | 'serverName' | 'privateDnsZoneId'>;
  /**
   * The guide's DMZ alias: an A record for the load balancer's frontend in an Azure DNS zone.
   * @default - none
   */
  readonly dmzAlias?: { readonly zoneName: string; readonly resourceGroupName: string; readonly name: string };
  /**
   * ThinPrint's client keys (a Terraform-side secret); only with the ThinPrint profile.
   * @default - none
   */
  readonly thinprint?: AzureThinPrintProps;
}

/**
 * A complete active/passive cluster on Azure from one ClusterSpec: Standard Load Balancer
 * probing the guard's /health, PostgreSQL (or MySQL) Flexible Server with its admin password
 * in Key Vault, an Azure Files share behind a private endpoint, the guard binary in a private
 * blob container, a scale set of N nodes with one user-assigned identity (granted the secret
 * and the blob before any VM boots), and e-mail alerts. Every part is also usable alone.
 */
export class AzureFailoverCluster extends Construct {
  /** The parsed spec every part was built from. */
  public readonly spec: ClusterSpec;
  /** The resource group, when created here (`createResourceGroup`). */
  public readonly resourceGroup?: ResourceGroup;
  /** The nodes' user-assigned managed identity (granted the secrets and the guard blob before any VM boots). */
  public readonly identity: UserAssignedIdentity;
  /** The Standard Load Balancer probing the guard. */
  public readonly loadBalancer: AzureLoadBalancer;
  /** The flexible server (or the description of an existing database). */
  public readonly database: AzureDatabase;
  /** The Azure Files share behind its private endpoint. */
  public readonly storage: AzureSharedStorage;
  /** The guard binary in its private blob container. */
  public readonly guardAsset: AzureGuardAsset;
  /** The scale set of app servers. */
  public readonly appServers: AzureAppServers;
  /** The metric alerts e-mailed to `spec.notificationEmails`. */
  public readonly alarms: AzureAlarms;
  /** What the boot script was given. */
  public readonly bootContext: GuardNodeContext;
  /** ThinPrint: the client-keys secret every node applies. */
  public readonly thinprintClientKeys?: AzureThinPrintClientKeys;
  /** The DMZ alias record, when asked for. */
  public readonly dmzAliasRecord?: DnsARecord;

  constructor(scope: Construct, id: string, props: AzureFailoverClusterProps) {
    super(scope, id);
    // passwords and keys go through write-only arguments (`*_wo`): Terraform ≥ 1.11
    requireWriteOnlyArguments(this);
    // Validate first: the spec's and every part's problems in one error, before any resource.
    const parsed = parseSpecProp(props.spec);
    throwIfProblems(this.node.path, uniqueProblems([...parsed.problems, ...propProblems(props), ...(parsed.spec ? clusterProblems(props, parsed.spec) : [])]));
    const spec = parsed.spec!;
    this.spec = spec;

    if (props.createResourceGroup) {
      this.resourceGroup = new ResourceGroup(this, 'resource-group', { name: props.resourceGroupName, location: props.location, tags: clusterTags(spec) });
    }
    // Referencing the group's attribute makes every resource wait for it when it is created here.
    const placement = { resourceGroupName: this.resourceGroup?.name ?? props.resourceGroupName, location: props.location };
    this.identity = new UserAssignedIdentity(this, 'identity', { ...placement, name: `${spec.name}-nodes`, tags: clusterTags(spec) });

    this.loadBalancer = new AzureLoadBalancer(this, 'load-balancer', { ...placement, spec, subnetId: props.appSubnetId, frontendPrivateIp: props.frontendPrivateIp, zones: props.zones });
    this.database = new AzureDatabase(this, 'database', {
      ...placement,
      spec,
      ...props.database,
      virtualNetworkId: props.virtualNetworkId,
      readerPrincipalId: this.identity.principalId,
      keyVaultName: props.keyVaultName,
    });
    // The ids 'file-share', 'guard-blob' and 'alerts' predate the renames (AzureFileShare, AzureGuardBlob,
    // AzureAlerts): they are the resources' Terraform addresses, and a new id would make the next
    // deploy destroy and recreate the share.
    this.storage = new AzureSharedStorage(this, 'file-share', {
      ...placement,
      spec,
      privateEndpointSubnetId: props.privateEndpointSubnetId,
      clientSubnetId: props.appSubnetId,
      privateEndpointNetworkSecurityGroup: props.privateEndpointNetworkSecurityGroup,
      backup: props.shareBackup,
      virtualNetworkId: props.virtualNetworkId,
      storageAccountName: props.fileStorageAccountName,
      privateDnsZoneId: props.filePrivateDnsZoneId,
      createPrivateDnsZone: props.createFilePrivateDnsZone,
      keyVaultId: this.database.keyVault?.id,
      keyVaultWriter: this.database.secretsWriterReady,
      readerPrincipalId: this.identity.principalId,
    });
    this.guardAsset = new AzureGuardAsset(this, 'guard-blob', {
      ...placement,
      spec,
      binaryPath: props.binaryPath,
      readerPrincipalId: this.identity.principalId,
      storageAccountName: props.guardStorageAccountName,
    });
    const keys = props.thinprint?.clientKeysValue;
    if (keys !== undefined) {
      this.thinprintClientKeys = new AzureThinPrintClientKeys(this, 'thinprint-client-keys', {
        spec,
        keyVaultId: this.database.keyVault!.id,
        value: keys,
        valueVersion: props.thinprint?.clientKeysVersion,
        readerPrincipalId: this.identity.principalId,
        // written after the deployer's data-plane role, like the database password
        dependsOn: [this.database.passwordSecret!],
      });
    }
    this.appServers = new AzureAppServers(this, 'app-servers', {
      ...placement,
      spec,
      subnetId: props.appSubnetId,
      loadBalancer: this.loadBalancer,
      database: this.database,
      storage: this.storage,
      guardAsset: this.guardAsset,
      thinprintClientKeys: this.thinprintClientKeys,
      networkAddress: props.networkAddress,
      identity: this.identity,
      // The nodes' grants have propagated and the share's endpoint exists before the first boot script runs.
      dependsOn: [
        new AzureRoleAssignmentWait(this, 'node-grants-propagation', {
          assignments: [
            ...this.database.readerRoleAssignments,
            ...this.storage.readerRoleAssignments,
            this.guardAsset.readerRoleAssignment,
            ...(this.thinprintClientKeys ? [this.thinprintClientKeys.readerRoleAssignment] : []),
          ],
        }),
        this.storage.privateEndpoint,
        // without the zone's link the share's name resolves to its public address: the mount fails
        ...(this.storage.privateDnsZoneLink ? [this.storage.privateDnsZoneLink] : []),
      ],
      vmSize: props.vmSize,
      zones: props.zones,
      image: props.image,
      sourceImageId: props.sourceImageId,
      trustedLaunch: props.trustedLaunch,
      installCommands: props.installCommands,
      adminSshPublicKey: props.adminSshPublicKey,
      windowsAdminPassword: props.windowsAdminPassword,
    });
    this.bootContext = this.appServers.bootContext;
    this.alarms = new AzureAlarms(this, 'alerts', { spec, resourceGroupName: placement.resourceGroupName, loadBalancerId: this.loadBalancer.loadBalancer.id });
    if (props.dmzAlias) {
      this.dmzAliasRecord = new DnsARecord(this, 'dmz-alias', { ...props.dmzAlias, ttl: 30, records: [this.loadBalancer.frontendIpAddress], tags: clusterTags(spec) });
    }
  }

  /** The address clients use: the load balancer's frontend IP (give `networkAddress` a DNS name for it). */
  public get loadBalancerAddress(): string {
    return this.loadBalancer.address;
  }

  /** The load balancer's Azure resource id. */
  public get loadBalancerId(): string {
    return this.loadBalancer.loadBalancerId;
  }

  /** The database's host name (the flexible server's FQDN, or `spec.database.existing.host`). */
  public get databaseHost(): string {
    return this.database.host;
  }

  /** The database's port. */
  public get databasePort(): number {
    return this.database.port;
  }

  /** The flexible server's Azure resource id; undefined for an existing database. */
  public get databaseId(): string | undefined {
    return this.database.databaseId;
  }

  /** The file storage account's Azure resource id. */
  public get storageId(): string {
    return this.storage.storageId;
  }

  /** The share's DNS name, `<account>.file.core.windows.net`. */
  public get storageDnsName(): string {
    return this.storage.dnsName;
  }

  /** The guard blob's URL. */
  public get guardAssetUrl(): string {
    return this.guardAsset.url;
  }

  /** The guard blob's private container name. */
  public get guardAssetContainerName(): string {
    return this.guardAsset.containerName;
  }
}

/**
 * Why AzureFailoverCluster builds no `dns` profile while AwsFailoverCluster does. The only
 * built-in one, ThinPrint dns-multicast, needs multicast between the nodes, which Azure virtual
 * networks do not carry (reported as `spec.profile.clusterMode` before this). A custom `dns` app
 * runs on nodes of the user's own (Traffic Manager probes and answers with each node's address),
 * so the cluster leaves the nodes to the user and AzureDnsCluster names them.
 */
const DNS_PROFILE_ON_AZURE =
  '"dns" profiles are not built by AzureFailoverCluster: its nodes are a guard-managed scale set behind a load balancer. ' +
  'For an active/active app, build the nodes and give their addresses to AzureDnsCluster (Traffic Manager); ' +
  'ThinPrint runs "single-active" on Azure (no multicast in Azure virtual networks)';

/**
 * The checks that need no spec (so they are reported with the spec's problems too): literal
 * network ids of the wrong shape (a subnet id where the network's belongs, a name instead of
 * an id), storage account names, the guard binary.
 */
function propProblems(props: AzureFailoverClusterProps): Problem[] {
  return [
    ...(props.virtualNetworkId ? [] : [{ path: 'virtualNetworkId', message: 'required' }]),
    ...storageAccountNameProblems('fileStorageAccountName', props.fileStorageAccountName),
    ...storageAccountNameProblems('guardStorageAccountName', props.guardStorageAccountName),
    ...guardBinaryProblems('binaryPath', props.binaryPath),
    ...azureIdProblems('virtualNetworkId', props.virtualNetworkId, 'virtualNetwork'),
    ...azureIdProblems('appSubnetId', props.appSubnetId, 'subnet'),
    ...azureIdProblems('database.delegatedSubnetId', props.database?.delegatedSubnetId, 'subnet'),
    ...azureIdProblems('privateEndpointSubnetId', props.privateEndpointSubnetId, 'subnet'),
    // The private DNS zones are linked to virtualNetworkId: a subnet elsewhere would not resolve them.
    ...([
      ['appSubnetId', props.appSubnetId],
      ['database.delegatedSubnetId', props.database?.delegatedSubnetId],
      ['privateEndpointSubnetId', props.privateEndpointSubnetId],
    ] as const)
      .filter(([, id]) => id && props.virtualNetworkId && !subnetInNetwork(id, props.virtualNetworkId))
      .map(([path, id]) => ({ path, message: `"${id}" is not a subnet of virtualNetworkId (${props.virtualNetworkId}), whose private DNS zones the cluster links` })),
  ];
}

/**
 * Every problem of every part, found before anything is built (the parts re-check their own
 * props; ids created later are stood in for by placeholders). Part props are renamed to the
 * cluster's.
 */
function clusterProblems(props: AzureFailoverClusterProps, spec: ClusterSpec): Problem[] {
  const placement = placementOf(props);
  const pending = 'pending';
  const rename = (map: Record<string, string>) => (p: Problem): Problem => renamed([p], map)[0];
  const problems: Problem[] = [];
  const thinprint = azureThinPrintProblems(spec, props.thinprint);
  if (thinprint.some((p) => p.path === 'spec.profile.clusterMode')) return thinprint;
  problems.push(...thinprint);
  if (spec.profile.failoverMode !== 'guard') {
    return [{ path: 'spec.profile.failoverMode', message: DNS_PROFILE_ON_AZURE }];
  }
  const app = spec.profile.appDatabase;
  if (app && spec.database.existing) {
    // AzureDatabase creates the app user's password secret in the Key Vault it creates with the server; the boot script needs it.
    problems.push({
      path: 'spec.database.existing',
      message: `${spec.profile.displayName}'s own database user "${app.user}" keeps its password in the Key Vault created with the database, and an existing database has none: let the cluster create the database`,
    });
  }
  problems.push(
    ...loadBalancerProblems({ ...placement, spec, subnetId: props.appSubnetId, frontendPrivateIp: props.frontendPrivateIp, zones: props.zones }).map(rename({ subnetId: 'appSubnetId' })),
    ...databaseProblems({ ...placement, spec, ...props.database, virtualNetworkId: props.virtualNetworkId || pending, readerPrincipalId: pending, keyVaultName: props.keyVaultName }).map(
      rename({ delegatedSubnetId: 'database.delegatedSubnetId', serverName: 'database.serverName', privateDnsZoneId: 'database.privateDnsZoneId' }),
    ),
    ...sharedStorageProblems({
      ...placement,
      spec,
      privateEndpointSubnetId: props.privateEndpointSubnetId,
      clientSubnetId: props.appSubnetId || pending,
      virtualNetworkId: props.virtualNetworkId || pending,
      storageAccountName: props.fileStorageAccountName,
      privateDnsZoneId: props.filePrivateDnsZoneId,
      createPrivateDnsZone: props.createFilePrivateDnsZone,
      keyVaultId: spec.database.existing ? undefined : pending,
    }).map(
      rename({
        storageAccountName: 'fileStorageAccountName',
        privateDnsZoneId: 'filePrivateDnsZoneId',
        createPrivateDnsZone: 'createFilePrivateDnsZone',
        keyVaultId: 'spec.database.existing',
      }),
    ),
    ...guardAssetProblems({ ...placement, spec, binaryPath: props.binaryPath, readerPrincipalId: pending, storageAccountName: props.guardStorageAccountName }).map(rename({ storageAccountName: 'guardStorageAccountName' })),
    ...appServersProblems({
      ...placement,
      spec,
      subnetId: props.appSubnetId || pending,
      adminSshPublicKey: props.adminSshPublicKey,
      windowsAdminPassword: props.windowsAdminPassword,
      image: props.image,
      sourceImageId: props.sourceImageId,
      trustedLaunch: props.trustedLaunch,
      installCommands: props.installCommands,
      zones: props.zones,
    }).filter((p) => p.path !== 'zones'),
    ...alarmsProblems({ spec, resourceGroupName: props.resourceGroupName, loadBalancerId: pending }),
    ...bootSpecProblems(spec),
  );
  // Each part reports spec-level problems (and zones) the same way; the caller lists each once.
  return problems;
}
