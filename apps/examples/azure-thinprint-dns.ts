import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import { ResourceGroup } from '@cdktf/provider-azurerm/lib/resource-group';
import { AzureDnsCluster } from '../../lib/azure/azure-dns-cluster';
import { parseClusterSpec, thinprint } from '../../lib/spec';

/**
 * ThinPrint Connection Service, active/active on two Windows servers behind one DNS name:
 * Traffic Manager MultiValue routing, TTL 30 s, TCP monitoring on the client port 4001.
 * The nodes' public addresses are variables.
 */
export class AzureThinPrintDnsStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AzurermProvider(this, 'azurerm', { features: [{}] });
    const spec = parseClusterSpec({ name: 'thinprint', profile: thinprint(), nodeCount: 2, tags: { app: 'thinprint-cs', environment: 'example' } });
    const input = (name: string, description: string, defaultValue?: string) =>
      new TerraformVariable(this, name, { type: 'string', description, default: defaultValue }).stringValue;
    const group = new ResourceGroup(this, 'resource-group', {
      name: input('resource_group_name', 'Resource group for the Traffic Manager profile (created)', 'thinprint-dns'),
      location: input('location', 'Region of the resource group', 'westeurope'),
    });
    const nodes = Array.from({ length: spec.nodeCount }, (_, i) => input(`node_${i + 1}_address`, `Public IPv4 address of Connection Service node ${i + 1}`));
    const dns = new AzureDnsCluster(this, 'thinprint', { spec, resourceGroupName: group.name, nodeAddresses: nodes });
    new TerraformOutput(this, 'cluster_fqdn', { value: dns.fqdn, description: 'CNAME your cluster name (e.g. tpcs.example.com) to this' });
  }
}
