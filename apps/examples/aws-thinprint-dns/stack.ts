import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { AwsFailoverCluster } from 'failover-constructs/aws';
import { thinprint } from 'failover-constructs/spec';

/**
 * The nodes' subnet CIDRs are literals: MCastNodeIfBits (the smallest network holding every
 * node) is computed from them at synth. Keep them equal to the subnets given as variables.
 */
const SUBNET_CIDRS = ['10.0.1.0/24', '10.0.2.0/24'];

/**
 * ThinPrint Connection Service as the vendor describes it: two Windows nodes, both active,
 * behind one DNS name (Route 53 multivalue answer records with a health check per node, TTL
 * 30 s), talking to each other by UDP multicast through a Transit Gateway multicast domain.
 * Each node's boot script sets the guide's registry values, moves the engines' port to 4002
 * and adds the client IDs and keys from Secrets Manager; nothing else is shared between nodes.
 */
export class AwsThinPrintDnsStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const region = new TerraformVariable(this, 'region', { type: 'string', default: 'eu-west-1', description: 'AWS region' });
    const vpcId = new TerraformVariable(this, 'vpc_id', { type: 'string', default: 'vpc-0123456789abcdef0', description: 'Existing VPC' });
    const vpcCidr = new TerraformVariable(this, 'vpc_cidr', { type: 'string', default: '10.0.0.0/16', description: 'Clients allowed to reach the nodes' });
    const subnetA = new TerraformVariable(this, 'subnet_a', { type: 'string', default: 'subnet-0ccccccccccccccc3', description: `Subnet ${SUBNET_CIDRS[0]} with an internet gateway route (Route 53 health checks), AZ a` });
    const subnetB = new TerraformVariable(this, 'subnet_b', { type: 'string', default: 'subnet-0ddddddddddddddd4', description: `Subnet ${SUBNET_CIDRS[1]} with an internet gateway route, AZ b` });
    const zoneId = new TerraformVariable(this, 'hosted_zone_id', { type: 'string', default: 'Z0123456789ABCDEFGHIJ', description: 'Hosted zone of the cluster name' });
    const clientKeys = new TerraformVariable(this, 'thinprint_client_keys', {
      type: 'string',
      sensitive: true,
      description: 'ThinPrint client IDs and authentication keys: {"clients":[{"id":"<client-id>","key":"<auth-key>"}]}',
    });
    // Ephemeral (Terraform ≥ 1.10): the keys reach only a write-only argument, never a saved plan file or the state.
    clientKeys.addOverride('ephemeral', true);
    new AwsProvider(this, 'aws', { region: region.stringValue });

    const cluster = new AwsFailoverCluster(this, 'thinprint', {
      spec: {
        name: 'tpcs',
        profile: thinprint({ clusterMode: 'dns-multicast', nodeSubnetCidrs: SUBNET_CIDRS }),
        nodeCount: 2,
        healthCheck: { intervalSecs: 10, timeoutSecs: 5, unhealthyThreshold: 2 },
      },
      vpcId: vpcId.stringValue,
      vpcCidr: vpcCidr.stringValue,
      subnetIds: [subnetA.stringValue, subnetB.stringValue],
      // The stock Windows Server AMI has no ThinPrint: the nodes boot from your AMI with the
      // Connection Service installed.
      imageId: new TerraformVariable(this, 'image_id', { type: 'string', description: 'Windows Server AMI with the ThinPrint Connection Service installed' }).stringValue,
      dnsRecord: { hostedZoneId: zoneId.stringValue, name: 'tpcs.corp.example.com' },
      dmzAlias: { hostedZoneId: zoneId.stringValue, name: 'print-gateway.corp.example.com' },
      // the keys are a Terraform-side secret (ephemeral variable): on the cluster, never in the profile
      thinprint: { clientKeysValue: clientKeys.stringValue },
    });

    const dns = cluster.dnsCluster!;
    new TerraformOutput(this, 'node_private_ips', { value: dns.nodes.map((n) => n.privateIp) });
    new TerraformOutput(this, 'health_check_ids', { value: dns.healthChecks.map((c) => c.id) });
    new TerraformOutput(this, 'multicast_domain_id', { value: dns.multicast!.domain.id });
    new TerraformOutput(this, 'client_keys_secret_arn', { value: dns.clientKeys!.secret.arn });
  }
}
