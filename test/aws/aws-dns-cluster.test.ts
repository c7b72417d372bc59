import { AwsDnsCluster, type AwsDnsClusterProps } from '../../lib/aws/aws-dns-cluster';
import { parseClusterSpec, thinprint, type ClusterSpecInput } from '../../lib/spec';
import { all, errorOf, NET, one, papercutSpec, synth } from './aws-test-support';

const ZONE = 'Z0123456789ABCDEFGHIJ';
const tpSpec = (o: Partial<ClusterSpecInput> = {}) => parseClusterSpec({ name: 'tpcs', profile: thinprint(), ...o });
const base = () => ({ spec: tpSpec(), vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], hostedZoneId: ZONE, recordName: 'tpcs.corp.example.com' });

describe('AwsDnsCluster', () => {
  it('defaults: a node per count, a TCP health check on the client port per node, multivalue records with TTL 30', () => {
    // given / when
    const json = synth((s) => new AwsDnsCluster(s, 'dns', base()));
    // then
    const nodes = all(json, 'aws_instance');
    expect(nodes.map((n) => n.subnet_id)).toEqual(NET.subnetIds);
    const checks = all(json, 'aws_route53_health_check');
    expect(checks).toHaveLength(2);
    for (const c of checks) expect(c).toMatchObject({ type: 'TCP', port: 4001, request_interval: 10, failure_threshold: 2 });
    const records = all(json, 'aws_route53_record');
    expect(records).toHaveLength(2);
    for (const r of records) expect(r).toMatchObject({ zone_id: ZONE, name: 'tpcs.corp.example.com', type: 'A', ttl: 30, multivalue_answer_routing_policy: true });
    expect(records[0].records[0]).toContain('private_ip');
    expect(new Set(records.map((r) => r.set_identifier)).size).toBe(2);
    expect(records[0].health_check_id).toContain('aws_route53_health_check');
    // Windows Server image, IMDSv2, no user data unless given
    expect(one(json, 'aws_ssm_parameter', 'data').name).toContain('Windows_Server');
    expect(one(json, 'aws_launch_template').metadata_options.http_tokens).toBe('required');
    expect(one(json, 'aws_launch_template').user_data).toBeUndefined();
  });

  it('an Elastic IP per node instead of associate_public_ip_address (EC2 refuses it next to the launch template security groups); the checks target it', () => {
    // given / when
    const json = synth((s) => new AwsDnsCluster(s, 'dns', { ...base(), recordAddress: 'public' }));
    // then
    const nodes = all(json, 'aws_instance');
    for (const n of nodes) expect(n.associate_public_ip_address).toBeUndefined();
    const ips = Object.entries(json.resource.aws_eip as Record<string, any>);
    expect(ips).toHaveLength(2);
    const nodeIds = Object.keys(json.resource.aws_instance);
    expect(ips.map(([, ip]) => ip.instance).sort()).toEqual(nodeIds.map((id) => `\${aws_instance.${id}.id}`).sort());
    for (const [, ip] of ips) expect(ip.domain).toBe('vpc');
    const ipRefs = ips.map(([id]) => `\${aws_eip.${id}.public_ip}`).sort();
    expect(all(json, 'aws_route53_health_check').map((c) => c.ip_address).sort()).toEqual(ipRefs);
    expect(all(json, 'aws_route53_record').map((r) => r.records[0]).sort()).toEqual(ipRefs);
  });

  it('security group: clients (VPC) on the profile ports, Route 53 checkers on the check port only, nothing from 0.0.0.0/0', () => {
    // given / when
    const json = synth((s) => new AwsDnsCluster(s, 'dns', { ...base(), vpcCidr: NET.vpcCidr }));
    // then
    const rules = all(json, 'aws_vpc_security_group_ingress_rule');
    expect(rules.filter((r) => r.cidr_ipv4 === NET.vpcCidr).map((r) => r.from_port).sort()).toEqual([4000, 4001, 4002]);
    const checkers = rules.filter((r) => r.prefix_list_id);
    expect(checkers.map((r) => r.from_port)).toEqual([4001]);
    expect(one(json, 'aws_ec2_managed_prefix_list', 'data').name).toMatch(/^com\.amazonaws\..*\.route53-healthchecks$/);
    for (const r of rules) expect(r.cidr_ipv4).not.toBe('0.0.0.0/0');
  });

  it('props: nodeCount, interval > 10 → 30, healthCheckPortName, recordAddress, userData, allowedCidrs', () => {
    // given
    const spec = tpSpec({ nodeCount: 3, healthCheck: { intervalSecs: 30, timeoutSecs: 5, unhealthyThreshold: 3 }, loadBalancer: { allowedCidrs: ['10.50.0.0/16'] } });
    // when
    const json = synth((s) => new AwsDnsCluster(s, 'dns', { ...base(), spec, healthCheckPortName: 'servers', recordAddress: 'public', userData: 'Write-Host ${env:COMPUTERNAME}' }));
    // then
    expect(all(json, 'aws_instance').map((n) => n.subnet_id)).toEqual([...NET.subnetIds, NET.subnetIds[0]]);
    for (const c of all(json, 'aws_route53_health_check')) expect(c).toMatchObject({ port: 4002, request_interval: 30, failure_threshold: 3 });
    expect(all(json, 'aws_route53_record')[0].records[0]).toContain('public_ip');
    expect(one(json, 'aws_launch_template').user_data).toMatch(/^\$\{base64encode\(local\./);
    expect(Object.values(json.locals)[0]).toBe('Write-Host $${env:COMPUTERNAME}');
    expect(new Set(all(json, 'aws_vpc_security_group_ingress_rule').filter((r) => r.cidr_ipv4).map((r) => r.cidr_ipv4))).toEqual(new Set(['10.50.0.0/16']));
  });

  describe('validation (each message names the prop)', () => {
    it.each([
      ['spec.profile.failoverMode', (): AwsDnsClusterProps => ({ ...base(), spec: papercutSpec() })],
      ['subnetIds', (): AwsDnsClusterProps => ({ ...base(), subnetIds: ['subnet-1'] })],
      ['hostedZoneId', (): AwsDnsClusterProps => ({ ...base(), hostedZoneId: 'corp.example.com' })],
      ['recordName', (): AwsDnsClusterProps => ({ ...base(), recordName: 'not a name' })],
      ['healthCheckPortName', (): AwsDnsClusterProps => ({ ...base(), healthCheckPortName: 'nope' })],
      ['imageId', (): AwsDnsClusterProps => ({ ...base(), imageId: 'windows' })],
    ])('%s', (prop, props) => {
      const p = props();
      expect(errorOf((s) => new AwsDnsCluster(s, 'dns', p))).toContain(`${prop}:`);
    });
  });
});
