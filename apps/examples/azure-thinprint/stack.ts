import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import { AzureFailoverCluster } from 'failover-constructs/azure';
import { thinprint } from 'failover-constructs/spec';

export interface AzureThinPrintStackOptions {
  /**
   * The guard binary.
   * @default - built at synth (see AzureFailoverClusterProps.binaryPath)
   */
  readonly binaryPath?: string;
}

/**
 * ThinPrint Connection Service on Azure, single-active: Azure virtual networks carry no
 * multicast, so the vendor's active/active cluster cannot form. Two Windows nodes behind an
 * internal Standard Load Balancer; failover-guard (lease in PostgreSQL Flexible Server) runs
 * the service on one node at a time, so every engine (port 4002) and every client (4001) meets
 * on the same node. Each node's boot script moves the engines' port to 4002 and adds the client
 * IDs and keys from Key Vault.
 */
export class AzureThinPrintStack extends TerraformStack {
  constructor(scope: Construct, id: string, options: AzureThinPrintStackOptions = {}) {
    super(scope, id);
    new AzurermProvider(this, 'azurerm', { features: [{}], storageUseAzuread: true });
    const input = (name: string, description: string, defaultValue?: string) =>
      new TerraformVariable(this, name, { type: 'string', description, default: defaultValue }).stringValue;
    const clientKeys = new TerraformVariable(this, 'thinprint_client_keys', {
      type: 'string',
      sensitive: true,
      description: 'ThinPrint client IDs and authentication keys: {"clients":[{"id":"<client-id>","key":"<auth-key>"}]}',
    });
    // Ephemeral (Terraform ≥ 1.10): the keys reach only a write-only argument, never a saved plan file or the state.
    clientKeys.addOverride('ephemeral', true);

    const cluster = new AzureFailoverCluster(this, 'thinprint', {
      spec: {
        name: 'tpcs',
        profile: thinprint({ clusterMode: 'single-active' }),
        nodeCount: 2,
        loadBalancer: { scheme: 'internal' },
        notificationEmails: ['printing-ops@example.com'],
        tags: { app: 'thinprint-cs', environment: 'example' },
      },
      resourceGroupName: input('resource_group_name', 'Resource group for the cluster (created)', 'thinprint-failover'),
      createResourceGroup: true,
      location: input('location', 'Azure region with availability zones', 'westeurope'),
      virtualNetworkId: input('virtual_network_id', 'Id of the existing virtual network'),
      appSubnetId: input('app_subnet_id', 'Subnet of the nodes and the load balancer frontend'),
      database: { delegatedSubnetId: input('database_subnet_id', 'Subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers') },
      privateEndpointSubnetId: input('private_endpoint_subnet_id', 'Subnet for private endpoints'),
      // A fresh network: create privatelink.file.core.windows.net. A network that already
      // resolves through one (hub and spoke, a second cluster) passes filePrivateDnsZoneId instead.
      createFilePrivateDnsZone: true,
      // The marketplace Windows image has no ThinPrint: the nodes boot from your image with the
      // Connection Service installed (a shared image gallery image: Trusted Launch takes no managed image).
      sourceImageId: input('source_image_id', 'Windows Server image with the ThinPrint Connection Service installed: a shared image gallery image or version'),
      dmzAlias: { zoneName: input('dns_zone_name', 'Azure DNS zone of the DMZ alias', 'corp.example.com'), resourceGroupName: input('dns_zone_resource_group', 'Resource group of that zone', 'dns'), name: 'print-gateway' },
      // the keys are a Terraform-side secret (ephemeral variable): on the cluster, never in the profile
      thinprint: { clientKeysValue: clientKeys.stringValue },
      binaryPath: options.binaryPath,
    });

    new TerraformOutput(this, 'load_balancer_ip', { value: cluster.loadBalancerAddress, description: 'ThinPrint Clients connect here on 4001, engines on 4002' });
    new TerraformOutput(this, 'client_keys_secret', { value: cluster.thinprintClientKeys!.secret.versionlessId, description: 'Key Vault secret with the client IDs and keys' });
    new TerraformOutput(this, 'scale_set_id', { value: cluster.appServers.scaleSet.id });
  }
}
