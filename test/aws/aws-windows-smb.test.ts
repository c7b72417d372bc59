import { unpackPowerShell } from '../../lib/boot/powershell-compact';
/**
 * FSx for Windows without a credentials secret: the nodes reach the share with their machine
 * identity, so the constructs join them to the directory through SSM (aws:domainJoin).
 */
import type { Construct } from 'constructs';
import { AwsAppServers } from '../../lib/aws/aws-app-servers';
import { AwsDatabase } from '../../lib/aws/aws-database';
import { AwsGuardAsset } from '../../lib/aws/aws-guard-asset';
import { AwsLoadBalancer } from '../../lib/aws/aws-load-balancer';
import { CLUSTER_TAG } from '../../lib/spec/tags';
import { AwsSharedStorage } from '../../lib/aws/aws-shared-storage';
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

describe('FSx for Windows with the machine identity: deploy review', () => {
  it('lets the nodes reach the domain controllers (DNS, Kerberos, LDAP, RPC, SMB, global catalog, dynamic RPC, NTP) and nothing else there', () => {
    // given / when
    const json = synth((s) => build(s, windowsSpec()));
    // then
    const directorySg = /^\$\{data\.aws_directory_service_directory\..*\.security_group_id\}$/;
    const toDirectory = all(json, 'aws_vpc_security_group_egress_rule').filter((r) => directorySg.test(r.referenced_security_group_id) && /nodes/.test(r.description));
    const nodeSg = one(json, 'aws_launch_template').vpc_security_group_ids[0];
    for (const r of toDirectory) expect(r.security_group_id).toBe(nodeSg);
    const ports = toDirectory.map((r) => `${r.ip_protocol}/${r.from_port}-${r.to_port}`).sort();
    expect(ports).toEqual(
      ['tcp/53-53', 'udp/53-53', 'tcp/88-88', 'udp/88-88', 'udp/123-123', 'tcp/135-135', 'tcp/389-389', 'udp/389-389', 'tcp/445-445', 'tcp/464-464', 'udp/464-464', 'tcp/636-636', 'tcp/3268-3269', 'tcp/49152-65535'].sort(),
    );
  });

  it('opens nothing to the directory when the share has a credentials secret (no join)', () => {
    const json = synth((s) => build(s, windowsSpec('aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:smb-AbCdEf')));
    const nodeSg = one(json, 'aws_launch_template').vpc_security_group_ids[0];
    expect(all(json, 'aws_vpc_security_group_egress_rule').filter((r) => r.security_group_id === nodeSg && /domain controllers/.test(r.description))).toEqual([]);
  });

  it('waits visibly for the join: a bounded wait that fails the run (exit 1, logged), no silent exit 0 before it', () => {
    let app!: AwsAppServers;
    synth((s) => (app = build(s, windowsSpec())));
    // the script is packed to fit EC2's 16 KB user data: read it unpacked
    const script = unpackPowerShell(app.userData);
    const notJoined = script.indexOf('PartOfDomain');
    const wait = script.slice(notJoined, script.indexOf('exit 0', notJoined));
    expect(wait).toMatch(/while \(-not \(Get-CimInstance -ClassName Win32_ComputerSystem\)\.PartOfDomain\)/);
    expect(wait).toContain('throw "not joined to a domain after 20 min');
    // the throw lands in the script's catch: "FAILED in step …" and exit 1
    expect(script).toMatch(/FAILED in step[\s\S]*exit 1/);
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
