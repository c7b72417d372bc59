/**
 * FSx for Windows without a credentials secret: the nodes reach the share with their machine
 * identity, so the constructs join them to the directory through SSM (aws:domainJoin).
 */
import type { Construct } from 'constructs';
import { AwsAppServers } from '../../lib/aws/aws-app-servers';
import { AwsDatabase } from '../../lib/aws/aws-database';
import { AwsGuardAsset } from '../../lib/aws/aws-guard-asset';
import { AwsLoadBalancer } from '../../lib/aws/aws-load-balancer';
import { AwsSharedStorage, CLUSTER_TAG } from '../../lib/aws/aws-shared-storage';
import { papercut, parseClusterSpec, type ClusterSpec } from '../../lib/spec';
import { all, FIXTURE_BINARY, NET, one, synth } from './aws-test-support';

const windowsSpec = (credentialsSecretRef?: string): ClusterSpec =>
  parseClusterSpec({ name: 'print', profile: papercut({ os: 'windows' }), storage: { kind: 'smb', ...(credentialsSecretRef ? { credentialsSecretRef } : {}) } });

function build(s: Construct, spec: ClusterSpec): AwsAppServers {
  const net = { spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds] };
  const loadBalancer = new AwsLoadBalancer(s, 'lb', { ...net, vpcCidr: NET.vpcCidr });
  const database = new AwsDatabase(s, 'db', net);
  const storage = new AwsSharedStorage(s, 'share', { ...net, activeDirectoryId: 'd-1234567890' });
  const guardAsset = new AwsGuardAsset(s, 'guard', { spec, binaryPath: FIXTURE_BINARY });
  return new AwsAppServers(s, 'app', { ...net, loadBalancer, database, storage, guardAsset });
}

describe('FSx for Windows with the machine identity', () => {
  it('joins every node of the cluster to the directory through an SSM association, with the policy it needs', () => {
    // given / when
    let app!: AwsAppServers;
    const json = synth((s) => (app = build(s, windowsSpec())));
    // then
    const join = one(json, 'aws_ssm_association');
    expect(join).toMatchObject({
      name: 'AWS-JoinDirectoryServiceDomain',
      targets: [{ key: `tag:${CLUSTER_TAG}`, values: ['print'] }],
      parameters: { directoryId: 'd-1234567890' },
    });
    expect(join.parameters.directoryName).toMatch(/^\$\{data\.aws_directory_service_directory\..*\.name\}$/);
    expect(join.parameters.dnsIpAddresses).toMatch(/^\$\{join\(\",\", tolist\(data\.aws_directory_service_directory\..*\.dns_ip_addresses\)\)\}$/);
    expect(one(json, 'aws_directory_service_directory', 'data').directory_id).toBe('d-1234567890');
    expect(all(json, 'aws_iam_role_policy_attachment').map((a) => a.policy_arn)).toContainEqual(expect.stringMatching(/:iam::aws:policy\/AmazonSSMDirectoryServiceAccess$/));
    // the nodes carry the tag the association targets
    expect(one(json, 'aws_autoscaling_group').tag).toContainEqual({ key: CLUSTER_TAG, value: 'print', propagate_at_launch: true });
    // the join reboots the node: EC2Launch runs the (idempotent) script again then
    expect(app.userData.endsWith('</powershell>\n<persist>true</persist>\n')).toBe(true);
  });

  it('joins nothing when the share has a credentials secret', () => {
    let app!: AwsAppServers;
    const json = synth((s) => (app = build(s, windowsSpec('aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:smb-AbCdEf'))));
    expect(json.resource.aws_ssm_association).toBeUndefined();
    expect(app.userData).not.toContain('<persist>');
  });
});

describe('Windows Firewall scope on AWS', () => {
  it("admits the guard's port from the load balancer's subnets (its health checks' sources)", () => {
    // given / when
    let app!: AwsAppServers;
    const json = synth((s) => (app = build(s, windowsSpec())));
    // then: one subnet lookup per load balancer subnet, their CIDRs in the boot context
    const subnets = all(json, 'aws_subnet', 'data');
    expect(subnets.map((d) => d.id).sort()).toEqual([...NET.subnetIds].sort());
    expect(app.bootContext.healthProbeSources).toHaveLength(NET.subnetIds.length);
  });
});
