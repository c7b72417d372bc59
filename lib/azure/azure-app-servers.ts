import { Fn, TerraformLocal, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { LinuxVirtualMachineScaleSet } from '@cdktf/provider-azurerm/lib/linux-virtual-machine-scale-set';
import { NetworkSecurityGroup, type NetworkSecurityGroupSecurityRule } from '@cdktf/provider-azurerm/lib/network-security-group';
import { UserAssignedIdentity } from '@cdktf/provider-azurerm/lib/user-assigned-identity';
import { WindowsVirtualMachineScaleSet } from '@cdktf/provider-azurerm/lib/windows-virtual-machine-scale-set';
import type { GuardNodeContext } from '../boot/context';
import { installCommandProblems, prependInstallCommands, renderLinuxBootScript, renderWindowsBootScript } from '../boot';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { throwIfProblems } from '../problems/problems';
import { clusterTags } from '../spec/tags';
import { azureTagProblems, type AzurePlacement, placementOf } from './azure-support';
import { azureGuardSpec } from './azure-health-check';
import { AZURE_SCHEDULED_EVENTS_WATCH, azureCustomDataCommand, azureNodePlatform } from './azure-node-platform';
import type { AzureDatabase } from './azure-database';
import type { AzureGuardAsset } from './azure-guard-asset';
import type { AzureLoadBalancer } from './azure-load-balancer';
import type { AzureSharedStorage } from './azure-shared-storage';
import type { AzureThinPrintClientKeys } from './azure-thinprint';
import { escapeTemplateLiterals } from '../synth/terraform-template';
import { userDataSizeProblems } from '../synth/user-data';
import { handoverBudgetSecs } from '../contracts/timing';
import { isUnresolved } from '../contracts/tokens';
import { GUARD_LIVE_PATH } from '../contracts/guard-endpoints';

/** Azure custom data: at most 65535 bytes before base64. */
export const AZURE_CUSTOM_DATA_MAX_BYTES = 65535;

/** Marketplace image of the scale set. */
export interface AzureImageReference {
  /** Image publisher, e.g. `Canonical`. */
  readonly publisher: string;
  /** Image offer, e.g. `0001-com-ubuntu-server-jammy`. */
  readonly offer: string;
  /** Image SKU, e.g. `22_04-lts-gen2`. */
  readonly sku: string;
  /**
   * Image version.
   * @default 'latest'
   */
  readonly version?: string;
}

/** A managed image, or a shared image gallery image (latest version) or image version. */
const CUSTOM_IMAGE_ID =
  /^\/subscriptions\/[^/\s]+\/resourceGroups\/[^/\s]+\/providers\/Microsoft\.Compute\/(images\/[^/\s]+|galleries\/[^/\s]+\/images\/[^/\s]+(\/versions\/[^/\s]+)?)$/i;

/**
 * Application Health extension 1.0: Binary Health States, healthy exactly when the probe answers
 * HTTP 200. The guard's `/live` answers 200 while it runs; version 2.0 (Rich Health States)
 * would need the body `{"ApplicationHealthState":"Healthy"}` and reads any other body as
 * Unknown, which repairs and rolling upgrades treat as unhealthy. Source:
 * https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-health-extension
 * ("Binary versus Rich Health States").
 */
export const APPLICATION_HEALTH_VERSION = '1.0';

/** A managed image (not a gallery image): Azure allows no Trusted Launch with one. */
const MANAGED_IMAGE_ID = /\/providers\/Microsoft\.Compute\/images\/[^/\s]+$/i;

/** The default Linux image: Ubuntu 22.04 LTS (gen 2). */
export const DEFAULT_LINUX_IMAGE: AzureImageReference = { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' };
/** The default Windows image: Windows Server 2022 Datacenter Azure Edition. */
export const DEFAULT_WINDOWS_IMAGE: AzureImageReference = { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter-azure-edition' };

/** Properties of an {@link AzureAppServers}. */
export interface AzureAppServersProps extends AzurePlacement {
  /** The parsed cluster spec: OS, node count, ports, guard port, load balancer scheme and CIDRs. */
  readonly spec: ClusterSpec;
  /** Subnet of the app servers' network interfaces. */
  readonly subnetId: string;
  /**
   * The load balancer: the nodes join its backend pool; its frontend address is what the app
   * tells its clients (and, with `spec.loadBalancer.floatingIp`, the nodes' loopback VIP).
   */
  readonly loadBalancer: AzureLoadBalancer;
  /** The guard's database (and the app's own user); the nodes read their passwords from its Key Vault. */
  readonly database: AzureDatabase;
  /** The share the nodes mount. */
  readonly storage: AzureSharedStorage;
  /**
   * ThinPrint: the client-keys secret; the nodes read it and apply it at boot.
   * @default - none
   */
  readonly thinprintClientKeys?: AzureThinPrintClientKeys;
  /** The guard binary the nodes download with their managed identity. */
  readonly guardAsset: AzureGuardAsset;
  /**
   * The DNS name clients use for the load balancer (PaperCut's `system.network-address`, the
   * user client's server-name).
   * @default - the load balancer's frontend IP address
   */
  readonly networkAddress?: string;
  /**
   * User-assigned identity of the nodes. Pass one created beforehand so its role assignments
   * (Key Vault secret, guard blob) exist before the first VM boots.
   * @default - a new identity (grant it access yourself, and pass the grants as `dependsOn`)
   */
  readonly identity?: UserAssignedIdentity;
  /**
   * Resources that must exist before the nodes boot: an AzureRoleAssignmentWait after the nodes'
   * role assignments (a grant takes minutes to propagate).
   * @default []
   */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * Size of the nodes.
   * @default 'Standard_D2s_v5'
   */
  readonly vmSize?: string;
  /**
   * The N nodes are spread over these zones.
   * @default ['1', '2', '3']
   */
  readonly zones?: readonly string[];
  /**
   * Name of the nodes' admin user.
   * @default 'fcadmin'
   */
  readonly adminUsername?: string;
  /**
   * OpenSSH public key of the admin user; required on Linux (password login is off). No key is built in.
   * @default - none (Windows profiles use `windowsAdminPassword`)
   */
  readonly adminSshPublicKey?: string;
  /**
   * Windows only: Azure requires an admin password on Windows scale sets. No inbound rule
   * allows RDP or WinRM.
   * @default - generated at apply time (two UUIDs); Azure keeps it in the state (sensitive), changes are ignored
   */
  readonly windowsAdminPassword?: string;
  /**
   * Marketplace image; not with `sourceImageId`.
   * @default Ubuntu 22.04 LTS gen2 (Linux), Windows Server 2022 Azure Edition (Windows)
   */
  readonly image?: AzureImageReference;
  /**
   * A custom image instead of a marketplace one, e.g. with the app installed: a managed image
   * (`/subscriptions/…/providers/Microsoft.Compute/images/<name>`) or a shared image gallery
   * image or version (`…/galleries/<g>/images/<i>[/versions/<v>]`). Not with `image`.
   * @default - the marketplace `image`
   */
  readonly sourceImageId?: string;
  /**
   * Trusted Launch (secure boot and vTPM). Azure refuses it with a managed image
   * (`…/Microsoft.Compute/images/<name>`): use a gallery image of security type Trusted Launch,
   * or set this to false for a managed image.
   * @default true
   */
  readonly trustedLaunch?: boolean;
  /**
   * Commands run at first boot before the boot script, e.g. to install the app when the image
   * does not have it: bash on Linux (stops at the first failure), PowerShell on Windows.
   * @default - none
   */
  readonly installCommands?: readonly string[];
  /**
   * Minutes after boot (or repair) before a node whose guard is not live is replaced: 10–90.
   * @default 30
   */
  readonly repairGracePeriodMinutes?: number;
  /**
   * Storage type of the nodes' OS disks.
   * @default 'Premium_LRS'
   */
  readonly osDiskType?: string;
}

/**
 * The app servers: a Linux (or Windows) scale set of fixed size N across zones, a user-assigned
 * managed identity, no password login, custom data from lib/boot, joined to the load balancer
 * pool. Automatic instance repairs watch only the guard's `/live` (Application Health
 * extension): a passive node answers 503 on `/health` by design and must never be replaced for
 * it. Overprovisioning is off, so no extra VM ever boots a guard. Each NIC gets an NSG that
 * admits the app ports from the clients, the guard port from the load balancer's probe, and
 * nothing else.
 */
export class AzureAppServers extends Construct {
  /** The virtual machine scale set of the N app servers (Linux or Windows by the profile). */
  public readonly scaleSet: LinuxVirtualMachineScaleSet | WindowsVirtualMachineScaleSet;
  /** The nodes' user-assigned managed identity (reads the guard blob and the secrets). */
  public readonly identity: UserAssignedIdentity;
  /** The nodes' network security group (profile ports from the clients, the guard port from the load balancer). */
  public readonly networkSecurityGroup: NetworkSecurityGroup;
  /** The rendered boot script (before base64). */
  public readonly bootScript: string;
  /** The boot context handed to the renderer. */
  public readonly bootContext: GuardNodeContext;
  /** Minutes a deleted node gets to hand over (the scale set's termination notification). */
  public readonly handoverTimeoutMinutes: number;

  constructor(scope: Construct, id: string, props: AzureAppServersProps) {
    super(scope, id);
    throwIfProblems(this.node.path, appServersProblems(props));
    const { spec, loadBalancer, database, storage, guardAsset } = props;
    const windows = spec.profile.os === 'windows';
    const tags = clusterTags(spec);
    const placement = placementOf(props);

    this.identity = props.identity ?? new UserAssignedIdentity(this, 'identity', { ...placement, name: `${spec.name}-nodes`, tags });
    this.networkSecurityGroup = new NetworkSecurityGroup(this, 'nsg', {
      ...placement,
      name: `${spec.name}-nodes`,
      securityRule: nodeSecurityRules(spec),
      tags,
    });

    // The guard is told the timings the Azure probe really uses (H = 1, T = min(I, 30)).
    const guardSpec = azureGuardSpec(spec);
    const clientKeys = props.thinprintClientKeys;
    this.bootContext = {
      mode: 'guard',
      platform: azureNodePlatform(this.identity.clientId),
      share: storage.mount,
      guardBinary: guardAsset.source,
      database: database.guardDatabase,
      loopbackVip: spec.loadBalancer.floatingIp ? loadBalancer.frontendIpAddress : undefined,
      // the app's own database user; the frontend address is what PaperCut and its clients use
      app: { database: database.appDatabase, networkAddress: props.networkAddress ?? loadBalancer.frontendIpAddress },
      ...(clientKeys ? { thinprint: { clientKeysSecretRef: clientKeys.secretRef } } : {}),
      // Linux nodes watch for the Terminate event of a rolling upgrade and hand over first.
      replacement: AZURE_SCHEDULED_EVENTS_WATCH,
    };
    this.bootScript = prependInstallCommands(
      spec.profile.os,
      windows ? renderWindowsBootScript(guardSpec, this.bootContext, { wrap: false }) : renderLinuxBootScript(guardSpec, this.bootContext),
      props.installCommands ?? [],
    );
    throwIfProblems(this.node.path, userDataSizeProblems(props.installCommands?.length ? 'installCommands' : 'spec', this.bootScript, { maxBytes: AZURE_CUSTOM_DATA_MAX_BYTES, what: 'custom data' }));
    // a termination notification takes 5–15 minutes
    this.handoverTimeoutMinutes = Math.min(15, Math.max(5, Math.ceil(handoverBudgetSecs(spec.guard) / 60)));
    // A local holds the script as a template (references resolve, bash `${…}` stays literal);
    // Terraform base64-encodes it, because the script contains apply-time values.
    const script = new TerraformLocal(this, 'boot-script', escapeTemplateLiterals(this.bootScript));
    const image = props.image ?? (windows ? DEFAULT_WINDOWS_IMAGE : DEFAULT_LINUX_IMAGE);
    const health = {
      name: 'guard-live',
      publisher: 'Microsoft.ManagedServices',
      type: windows ? 'ApplicationHealthWindows' : 'ApplicationHealthLinux',
      typeHandlerVersion: APPLICATION_HEALTH_VERSION,
      autoUpgradeMinorVersion: true,
      settings: JSON.stringify({ protocol: 'http', port: spec.guard.port, requestPath: GUARD_LIVE_PATH, intervalInSeconds: 5, numberOfProbes: 3 }),
    };
    const common = {
      ...placement,
      name: `${spec.name}-nodes`,
      sku: props.vmSize ?? 'Standard_D2s_v5',
      instances: spec.nodeCount,
      zones: [...(props.zones ?? ['1', '2', '3'])],
      adminUsername: props.adminUsername ?? 'fcadmin',
      computerNamePrefix: windows ? spec.name.replace(/-/g, '').slice(0, 9) : `${spec.name}-`,
      customData: Fn.base64encode(script.asString),
      // Overprovisioned VMs would boot guards that race for the lease.
      overprovision: false,
      // A new model (custom data with a new guard, app version, image) rolls out by itself,
      // one node per batch: a new VM first (surge; it joins as passive, healthy on /live), then
      // an old one is deleted after its Terminate event and handover. When the surge's quota
      // check fails, Azure upgrades the batch in place instead, without Terminate events
      // (https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-maxsurge);
      // a batch of one node then still leaves the others serving. Changing upgrade_mode
      // replaces an existing scale set.
      upgradeMode: 'Rolling',
      rollingUpgradePolicy: {
        maxBatchInstancePercent: rollingBatchPercent(spec.nodeCount),
        maxUnhealthyInstancePercent: 100,
        maxUnhealthyUpgradedInstancePercent: 0,
        pauseTimeBetweenBatches: 'PT0S',
        maximumSurgeInstancesEnabled: true,
        crossZoneUpgradesEnabled: true,
        prioritizeUnhealthyInstancesEnabled: false,
      },
      terminationNotification: { enabled: true, timeout: `PT${this.handoverTimeoutMinutes}M` },
      secureBootEnabled: props.trustedLaunch ?? true,
      vtpmEnabled: props.trustedLaunch ?? true,
      identity: { type: 'UserAssigned', identityIds: [this.identity.id] },
      ...(props.sourceImageId ? { sourceImageId: props.sourceImageId } : { sourceImageReference: { ...image, version: image.version ?? 'latest' } }),
      osDisk: { caching: 'ReadWrite', storageAccountType: props.osDiskType ?? 'Premium_LRS' },
      networkInterface: [
        {
          name: 'primary',
          primary: true,
          networkSecurityGroupId: this.networkSecurityGroup.id,
          ipConfiguration: [
            { name: 'primary', primary: true, subnetId: props.subnetId, loadBalancerBackendAddressPoolIds: [loadBalancer.backendPool.id] },
          ],
        },
      ],
      automaticInstanceRepair: { enabled: true, gracePeriod: `PT${props.repairGracePeriodMinutes ?? 30}M`, action: 'Replace' },
      tags,
      dependsOn: [...(props.dependsOn ?? [])],
    };
    if (windows) {
      const ps = 'C:\\AzureData\\failover-boot.ps1';
      const run = {
        name: 'failover-boot',
        publisher: 'Microsoft.Compute',
        type: 'CustomScriptExtension',
        typeHandlerVersion: '1.10',
        autoUpgradeMinorVersion: true,
        // Windows stores custom data but never runs it; this runs it once per VM.
        protectedSettings: JSON.stringify({
          commandToExecute: azureCustomDataCommand(ps),
        }),
      };
      const vmss = new WindowsVirtualMachineScaleSet(this, 'vmss', {
        ...common,
        adminPassword: props.windowsAdminPassword ?? Fn.join('', [Fn.upper(Fn.uuid()), Fn.uuid()]),
        extension: [run, { ...health, provisionAfterExtensions: [run.name] }],
        lifecycle: props.windowsAdminPassword ? undefined : { ignoreChanges: ['admin_password'] },
      });
      this.scaleSet = vmss;
    } else {
      this.scaleSet = new LinuxVirtualMachineScaleSet(this, 'vmss', {
        ...common,
        disablePasswordAuthentication: true,
        adminSshKey: [{ username: common.adminUsername, publicKey: props.adminSshPublicKey! }],
        extension: [health],
      });
    }
  }
}

/**
 * The rolling upgrade's batch size: one node of N (at most 50 %, at least Azure's minimum of
 * 5 %), so even an in-place fallback never takes every node at once.
 */
export function rollingBatchPercent(nodeCount: number): number {
  return Math.max(5, Math.min(50, Math.floor(100 / nodeCount)));
}

/** Inbound rules of the nodes' NSG, as narrow as the AWS security groups. */
export function nodeSecurityRules(spec: ClusterSpec): NetworkSecurityGroupSecurityRule[] {
  const cidrs = spec.loadBalancer.allowedCidrs;
  const clients = cidrs && cidrs.length > 0 ? { sourceAddressPrefixes: [...cidrs] } : { sourceAddressPrefix: spec.loadBalancer.scheme === 'public' ? 'Internet' : 'VirtualNetwork' };
  const rule = { direction: 'Inbound', protocol: 'Tcp', sourcePortRange: '*', destinationAddressPrefix: '*' };
  return [
    {
      ...rule,
      name: 'allow-clients-app-ports',
      description: 'Clients (through the load balancer, client IP preserved) to the app ports',
      priority: 100,
      access: 'Allow',
      ...clients,
      destinationPortRanges: spec.ports.map((p) => String(p.port)),
    },
    {
      ...rule,
      name: 'allow-lb-probe-guard',
      description: "The load balancer's health probe to the guard's /health",
      priority: 110,
      access: 'Allow',
      sourceAddressPrefix: 'AzureLoadBalancer',
      destinationPortRange: String(spec.guard.port),
    },
    {
      ...rule,
      name: 'deny-all-other-inbound',
      description: 'Nothing else: no SSH, no RDP, not even from inside the virtual network',
      priority: 4096,
      access: 'Deny',
      protocol: '*',
      sourceAddressPrefix: '*',
      destinationPortRange: '*',
    },
  ];
}

/**
 * Why Azure would refuse this OpenSSH public key, or undefined: it takes RSA keys of 2048 bits
 * or more and Ed25519 keys only (no ECDSA, no DSA).
 */
export function sshPublicKeyProblem(key: string): string | undefined {
  const usage = 'must be an OpenSSH public key Azure accepts: "ssh-rsa AAAA…" (2048 bits or more) or "ssh-ed25519 AAAA…"';
  const m = /^(\S+) ([A-Za-z0-9+/]+={0,2})( .*)?$/.exec(key.trim());
  if (!m) return usage;
  const [, type, base64] = m;
  if (type !== 'ssh-rsa' && type !== 'ssh-ed25519') return `${usage}; Azure rejects "${type}" keys`;
  // The key blob: string type, then (RSA) mpint e, mpint n — each a 4-byte length and its bytes.
  const blob = Buffer.from(base64, 'base64');
  const fields: Buffer[] = [];
  for (let at = 0; at + 4 <= blob.length && fields.length < 3; ) {
    const length = blob.readUInt32BE(at);
    if (at + 4 + length > blob.length) return `${usage}; the key data is cut short`;
    fields.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (fields[0]?.toString('latin1') !== type) return `${usage}; the key data does not match its type "${type}"`;
  if (type === 'ssh-ed25519') return fields[1]?.length === 32 ? undefined : `${usage}; not a 32-byte Ed25519 key`;
  const modulus = fields[2];
  if (!modulus) return `${usage}; the RSA key has no modulus`;
  const leading = modulus.findIndex((b) => b !== 0);
  const bits = leading < 0 ? 0 : (modulus.length - leading - 1) * 8 + (32 - Math.clz32(modulus[leading]));
  return bits >= 2048 ? undefined : `${usage}; this RSA key has ${bits} bits`;
}

/**
 * Every problem of these props (AzureFailoverCluster checks them before it builds anything, so
 * before the parts exist: they are not checked here).
 */
export function appServersProblems(props: Omit<AzureAppServersProps, 'loadBalancer' | 'database' | 'storage' | 'guardAsset' | 'thinprintClientKeys'>): Problem[] {
  const { spec } = props;
  const problems: Problem[] = azureTagProblems(spec);
  if (spec.profile.failoverMode !== 'guard') {
    problems.push({ path: 'spec.profile.failoverMode', message: `"${spec.profile.failoverMode}" apps run no guard; use AzureDnsCluster` });
  }
  if (!props.subnetId) problems.push({ path: 'subnetId', message: 'required' });
  const key = props.adminSshPublicKey;
  if (spec.profile.os === 'linux') {
    if (!key) problems.push({ path: 'adminSshPublicKey', message: 'required on Linux: password login is off, so Azure needs an SSH public key' });
    else if (!isUnresolved(key)) {
      const problem = sshPublicKeyProblem(key);
      if (problem) problems.push({ path: 'adminSshPublicKey', message: problem });
    }
  } else if (key) {
    problems.push({ path: 'adminSshPublicKey', message: 'Linux only; Windows nodes have no SSH key' });
  }
  if (props.windowsAdminPassword !== undefined && spec.profile.os !== 'windows') {
    problems.push({ path: 'windowsAdminPassword', message: 'Windows only' });
  }
  const grace = props.repairGracePeriodMinutes;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 10 || grace > 90)) {
    problems.push({ path: 'repairGracePeriodMinutes', message: 'must be a whole number of minutes, 10–90 (Azure automatic instance repair)' });
  }
  if (props.sourceImageId !== undefined) {
    if (props.image !== undefined) problems.push({ path: 'sourceImageId', message: 'give either sourceImageId (custom image) or image (marketplace), not both' });
    if (!isUnresolved(props.sourceImageId) && !CUSTOM_IMAGE_ID.test(props.sourceImageId)) {
      problems.push({
        path: 'sourceImageId',
        message: 'must be a managed image id (/subscriptions/…/providers/Microsoft.Compute/images/<name>) or a gallery image (…/galleries/<g>/images/<i>[/versions/<v>])',
      });
    }
  }
  const managedImage = props.sourceImageId !== undefined && !isUnresolved(props.sourceImageId) && MANAGED_IMAGE_ID.test(props.sourceImageId);
  if (managedImage && (props.trustedLaunch ?? true)) {
    problems.push({
      path: 'sourceImageId',
      message: 'is a managed image, which Azure refuses with Trusted Launch (secure boot, vTPM): use a shared image gallery image of security type TrustedLaunch, or set trustedLaunch: false',
    });
  }
  problems.push(...installCommandProblems(props.installCommands));
  if (props.zones !== undefined && props.zones.length === 0) problems.push({ path: 'zones', message: 'must list at least one zone' });
  if (props.adminUsername !== undefined && !/^[a-z_][a-z0-9_-]{0,19}$/.test(props.adminUsername)) {
    problems.push({ path: 'adminUsername', message: 'must be 1–20 lower-case letters, digits, _ and -' });
  }
  return problems;
}
