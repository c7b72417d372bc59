import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import { AzureFailoverCluster } from 'failover-constructs/azure';
import { PAPERCUT_MF_LINUX_INSTALLER, papercutLinuxInstallCommands } from 'failover-constructs/boot';
import { papercut } from 'failover-constructs/spec';

export interface AzurePaperCutStackOptions {
  /**
   * The guard binary.
   * @default - built at synth (see AzureFailoverClusterProps.binaryPath)
   */
  readonly binaryPath?: string;
  /**
   * Windows: PaperCut MF on Windows Server from your own image (a shared image gallery image,
   * variable `source_image_id`), an SMB share whose key the stack puts into Key Vault, and an
   * install command that runs PaperCut's silent installer when the image lacks it.
   * @default 'linux'
   */
  readonly os?: 'linux' | 'windows';
}

/** Runs PaperCut MF's silent installer from the image when the server is not installed yet (idempotent). */
export const WINDOWS_INSTALL_COMMANDS = [
  "$installer = 'C:\\Installers\\pcmf-setup.exe'",
  // -PassThru: without it the installer's exit code is lost and a failed install looks done
  "if (-not (Test-Path -LiteralPath 'C:\\Program Files\\PaperCut MF\\server')) { $setup = Start-Process -FilePath $installer -ArgumentList '/VERYSILENT', '/SUPPRESSMSGBOXES', '/NORESTART' -Wait -PassThru; if ($setup.ExitCode -ne 0) { throw \"PaperCut setup failed (exit $($setup.ExitCode))\" } }",
];

/**
 * PaperCut MF on Linux (or Windows, see `os`), two nodes behind an internal Standard Load Balancer, PostgreSQL
 * Flexible Server (zone-redundant HA), an Azure Files NFS share. The network is yours: pass
 * the ids of an existing virtual network and its three subnets as variables.
 */
export class AzurePaperCutStack extends TerraformStack {
  constructor(scope: Construct, id: string, options: AzurePaperCutStackOptions = {}) {
    super(scope, id);
    // Credentials come from the environment (az login, ARM_* variables, managed identity).
    // Entra ID for blob uploads: the guard's storage account accepts no shared keys.
    new AzurermProvider(this, 'azurerm', { features: [{}], storageUseAzuread: true });
    const input = (name: string, description: string, defaultValue?: string) =>
      new TerraformVariable(this, name, { type: 'string', description, default: defaultValue }).stringValue;

    const windows = options.os === 'windows';
    const cluster = new AzureFailoverCluster(this, 'papercut', {
      spec: {
        name: 'papercut',
        profile: papercut({ edition: 'mf', os: windows ? 'windows' : 'linux' }),
        nodeCount: 2,
        database: { engine: 'postgres', size: 'small' },
        storage: { kind: windows ? 'smb' : 'nfs', sizeGb: 100 },
        loadBalancer: { scheme: 'internal' },
        notificationEmails: ['printing-ops@example.com'],
        tags: { app: 'papercut-mf', environment: 'example' },
      },
      resourceGroupName: input('resource_group_name', 'Resource group for the cluster (created)', 'papercut-failover'),
      createResourceGroup: true,
      location: input('location', 'Azure region with availability zones', 'westeurope'),
      virtualNetworkId: input('virtual_network_id', 'Id of the existing virtual network'),
      appSubnetId: input('app_subnet_id', 'Subnet of the app servers and the load balancer frontend'),
      database: { delegatedSubnetId: input('database_subnet_id', 'Subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers') },
      privateEndpointSubnetId: input('private_endpoint_subnet_id', 'Subnet for the file share private endpoint'),
      // A fresh network: create privatelink.file.core.windows.net. A network that already
      // resolves through one (hub and spoke, a second cluster) passes filePrivateDnsZoneId instead.
      createFilePrivateDnsZone: true,
      ...(windows
        ? {
            sourceImageId: input('source_image_id', 'Windows Server image with the PaperCut installer: a shared image gallery image (or version) of security type TrustedLaunch'),
            installCommands: WINDOWS_INSTALL_COMMANDS,
          }
        : {
            adminSshPublicKey: input('admin_ssh_public_key', 'OpenSSH public key of the nodes admin user (no inbound SSH rule exists)'),
            // The marketplace Ubuntu image has no PaperCut: install it at first boot (with an
            // image that has it, pass sourceImageId instead). Without either, the boot script
            // stops at "check the app is installed" and says so.
            installCommands: papercutLinuxInstallCommands(
              input('papercut_installer_url', 'PaperCut MF Linux installer (pcmf-setup-*.sh) the nodes download at first boot', PAPERCUT_MF_LINUX_INSTALLER),
            ),
          }),
      binaryPath: options.binaryPath,
    });

    new TerraformOutput(this, 'load_balancer_ip', { value: cluster.loadBalancerAddress, description: 'Point print clients and devices here (ports 9191-9193)' });
    new TerraformOutput(this, 'database_fqdn', { value: cluster.databaseHost });
    new TerraformOutput(this, 'database_password_secret', { value: cluster.database.passwordSecret!.versionlessId, description: 'Key Vault secret holding the database admin password' });
    new TerraformOutput(this, 'share_address', { value: cluster.storage.address });
    new TerraformOutput(this, 'scale_set_id', { value: cluster.appServers.scaleSet.id });
  }
}
