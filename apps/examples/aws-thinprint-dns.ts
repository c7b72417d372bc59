import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { AwsFailoverCluster } from '../../lib/aws/aws-failover-cluster';
import { thinprint } from '../../lib/spec';

/**
 * ThinPrint Connection Service: two Windows nodes, both active, behind one DNS name
 * (Route 53 multivalue answer records with a health check per node, TTL 30 s). No guard,
 * database or share: ThinPrint replicates its settings itself.
 */
export class AwsThinPrintDnsStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const region = new TerraformVariable(this, 'region', { type: 'string', default: 'eu-west-1', description: 'AWS region' });
    const vpcId = new TerraformVariable(this, 'vpc_id', { type: 'string', default: 'vpc-0123456789abcdef0', description: 'Existing VPC' });
    const vpcCidr = new TerraformVariable(this, 'vpc_cidr', { type: 'string', default: '10.0.0.0/16', description: 'Clients allowed to reach the nodes' });
    const subnetA = new TerraformVariable(this, 'subnet_a', { type: 'string', default: 'subnet-0ccccccccccccccc3', description: 'Subnet with an internet gateway route (Route 53 health checks), AZ a' });
    const subnetB = new TerraformVariable(this, 'subnet_b', { type: 'string', default: 'subnet-0ddddddddddddddd4', description: 'Subnet with an internet gateway route, AZ b' });
    const zoneId = new TerraformVariable(this, 'hosted_zone_id', { type: 'string', default: 'Z0123456789ABCDEFGHIJ', description: 'Hosted zone of the cluster name' });
    new AwsProvider(this, 'aws', { region: region.stringValue });

    const cluster = new AwsFailoverCluster(this, 'thinprint', {
      spec: { name: 'tpcs', profile: thinprint(), nodeCount: 2, healthCheck: { intervalSecs: 10, timeoutSecs: 5, unhealthyThreshold: 2 } },
      vpcId: vpcId.stringValue,
      vpcCidr: vpcCidr.stringValue,
      subnetIds: [subnetA.stringValue, subnetB.stringValue],
      dnsRecord: { hostedZoneId: zoneId.stringValue, name: 'tpcs.corp.example.com' },
    });

    new TerraformOutput(this, 'node_private_ips', { value: cluster.dnsCluster!.nodes.map((n) => n.privateIp) });
    new TerraformOutput(this, 'health_check_ids', { value: cluster.dnsCluster!.healthChecks.map((c) => c.id) });
  }
}
