import { AwsDnsCluster, type AwsDnsClusterProps } from '../../lib/aws/aws-dns-cluster';
import { TerraformVariable } from 'cdktf';
import { custom, parseClusterSpec, thinprint, type ClusterSpecInput } from '../../lib/spec';
import { all, errorOf, NET, one, papercutSpec, synth } from './aws-test-support';

const ZONE = 'Z0123456789ABCDEFGHIJ';
const CIDRS = ['10.20.1.0/24', '10.20.2.0/24'];
const tpSpec = (o: Partial<ClusterSpecInput> = {}, nodeSubnetCidrs: readonly string[] | null = CIDRS) =>
  parseClusterSpec({ name: 'tpcs', profile: thinprint({ clusterMode: 'dns-multicast', nodeSubnetCidrs: nodeSubnetCidrs ?? undefined }), ...o });
const base = (): AwsDnsClusterProps => ({ spec: tpSpec(), vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], hostedZoneId: ZONE, recordName: 'tpcs.corp.example.com' });
/** Any active/active app without ThinPrint's node configuration. */
const customDnsSpec = (o: Partial<ClusterSpecInput> = {}) =>
  parseClusterSpec({
    name: 'tpcs',
    profile: custom({ displayName: 'Acme DNS', os: 'windows', failoverMode: 'dns', ports: [{ name: 'clients', port: 4001 }, { name: 'servers', port: 4002 }], installDir: 'C:\\Acme', serviceName: 'Acme', readiness: { kind: 'tcp', port: 4001 } }),
    ...o,
  });

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
    // Windows Server image, IMDSv2; ThinPrint nodes boot their node configuration
    expect(one(json, 'aws_ssm_parameter', 'data').name).toContain('Windows_Server');
    expect(one(json, 'aws_launch_template').metadata_options.http_tokens).toBe('required');
    expect(one(json, 'aws_launch_template').user_data).toMatch(/^\$\{base64encode\(local\./);
  });

  it('a non-ThinPrint dns profile boots no user data unless given', () => {
    const json = synth((s) => new AwsDnsCluster(s, 'dns', { ...base(), spec: customDnsSpec() }));
    expect(one(json, 'aws_launch_template').user_data).toBeUndefined();
    expect(all(json, 'aws_ec2_transit_gateway')).toHaveLength(0);
    expect(all(json, 'aws_secretsmanager_secret')).toHaveLength(0);
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
    for (const r of rules.filter((x) => x.cidr_ipv4 === NET.vpcCidr)) expect(r.to_port).toBe(r.from_port);
    const checkers = rules.filter((r) => r.prefix_list_id);
    expect(checkers.map((r) => r.from_port)).toEqual([4001]);
    expect(one(json, 'aws_ec2_managed_prefix_list', 'data').name).toMatch(/^com\.amazonaws\..*\.route53-healthchecks$/);
    for (const r of rules) expect(r.cidr_ipv4).not.toBe('0.0.0.0/0');
  });

  it('props: nodeCount, interval > 10 → 30, healthCheckPortName, recordAddress, userData, allowedCidrs', () => {
    // given
    const spec = tpSpec({ nodeCount: 3, healthCheck: { intervalSecs: 30, timeoutSecs: 5, unhealthyThreshold: 3 }, loadBalancer: { allowedCidrs: ['10.50.0.0/16'] } });
    // when
    const json = synth((s) => new AwsDnsCluster(s, 'dns', { ...base(), spec: customDnsSpec({ nodeCount: 3, healthCheck: spec.healthCheck, loadBalancer: { allowedCidrs: ['10.50.0.0/16'] } }), healthCheckPortName: 'servers', recordAddress: 'public', userData: 'Write-Host ${env:COMPUTERNAME}' }));
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
      ['spec.profile.nodeSubnetCidrs', (): AwsDnsClusterProps => ({ ...base(), spec: tpSpec({}, null) })],
      ['spec.profile.nodeSubnetCidrs', (): AwsDnsClusterProps => ({ ...base(), spec: tpSpec({}, ['10.20.1.0/24']) })],
      ['spec.profile.nodeSubnetCidrs[1]', (): AwsDnsClusterProps => ({ ...base(), spec: tpSpec({}, ['10.20.1.0/24', '10.20.2.0']) })],
      ['userData', (): AwsDnsClusterProps => ({ ...base(), userData: 'Write-Host hi' })],
      ['thinprint.clientKeysValue', (): AwsDnsClusterProps => ({ ...base(), thinprint: { clientKeysValue: '{"clients":[{"id":"66","key":"666"}]}' } })],
      ['thinprint', (): AwsDnsClusterProps => ({ ...base(), spec: customDnsSpec(), thinprint: { clientKeysVersion: 2 } })],
      ['thinprint', (): AwsDnsClusterProps => ({ ...base(), spec: customDnsSpec(), thinprint: { multicastGroupAddress: '239.1.1.1' } })],
    ])('%s', (prop, props) => {
      const p = props();
      expect(errorOf((s) => new AwsDnsCluster(s, 'dns', p))).toContain(`${prop}:`);
    });
  });

  describe('ThinPrint dns-multicast', () => {
    it('a Transit Gateway multicast domain (IGMPv2) over the nodes\' subnets', () => {
      // when
      const json = synth((s) => new AwsDnsCluster(s, 'dns', base()));
      // then
      const tgw = one(json, 'aws_ec2_transit_gateway');
      expect(tgw).toMatchObject({ multicast_support: 'enable', auto_accept_shared_attachments: 'disable', default_route_table_association: 'disable', default_route_table_propagation: 'disable' });
      const attachment = one(json, 'aws_ec2_transit_gateway_vpc_attachment');
      expect(attachment).toMatchObject({ vpc_id: NET.vpcId, subnet_ids: NET.subnetIds });
      expect(attachment.transit_gateway_id).toContain('aws_ec2_transit_gateway.');
      const domain = one(json, 'aws_ec2_transit_gateway_multicast_domain');
      expect(domain).toMatchObject({ igmpv2_support: 'enable', static_sources_support: 'disable', auto_accept_shared_associations: 'disable' });
      const associations = all(json, 'aws_ec2_transit_gateway_multicast_domain_association');
      expect(associations.map((a) => a.subnet_id)).toEqual(NET.subnetIds);
      for (const a of associations) {
        expect(a.transit_gateway_attachment_id).toContain('aws_ec2_transit_gateway_vpc_attachment.');
        expect(a.transit_gateway_multicast_domain_id).toContain('aws_ec2_transit_gateway_multicast_domain.');
      }
      // IGMP only: no static member unless a group is given
      expect(all(json, 'aws_ec2_transit_gateway_multicast_group_member')).toHaveLength(0);
      // no client keys given: no secret, no grant, the script adds no client
      expect(all(json, 'aws_secretsmanager_secret')).toHaveLength(0);
      expect(all(json, 'aws_iam_role_policy')).toHaveLength(0);
      expect(Object.values(json.locals)[0]).toContain("$TpClientKeysSecretRef = ''");
    });

    it('static group members: each node\'s primary network interface, after the subnet associations', () => {
      const json = synth((s) => new AwsDnsCluster(s, 'dns', { ...base(), thinprint: { multicastGroupAddress: '239.192.0.10' } }));
      const members = all(json, 'aws_ec2_transit_gateway_multicast_group_member');
      expect(members).toHaveLength(2);
      for (const m of members) {
        expect(m.group_ip_address).toBe('239.192.0.10');
        expect(m.network_interface_id).toMatch(/aws_instance\..*primary_network_interface_id/);
        expect(m.depends_on.every((d: string) => d.startsWith('aws_ec2_transit_gateway_multicast_domain_association.'))).toBe(true);
      }
      expect(errorOf((s) => new AwsDnsCluster(s, 'dns', { ...base(), thinprint: { multicastGroupAddress: '10.0.0.1' } }))).toContain('thinprint.multicastGroupAddress: "10.0.0.1" is not an IPv4 multicast address');
    });

    it('node-to-node rules: TCP 4000–4002 and UDP from the nodes\' subnets only, IGMP from the querier, egress to the groups', () => {
      // when
      const json = synth((s) => new AwsDnsCluster(s, 'dns', { ...base(), vpcCidr: NET.vpcCidr }));
      // then
      const ingress = all(json, 'aws_vpc_security_group_ingress_rule');
      const egress = all(json, 'aws_vpc_security_group_egress_rule');
      const pick = (rules: Record<string, any>[], cidr: string, proto: string) => rules.filter((r) => r.cidr_ipv4 === cidr && r.ip_protocol === proto).map((r) => [r.from_port, r.to_port]);
      for (const cidr of CIDRS) {
        expect(pick(ingress, cidr, 'tcp')).toEqual([[4000, 4002]]);
        expect(pick(egress, cidr, 'tcp')).toEqual([[4000, 4002]]);
        expect(pick(ingress, cidr, 'udp')).toEqual([[0, 65535]]);
      }
      expect(pick(egress, '224.0.0.0/4', 'udp')).toEqual([[0, 65535]]);
      expect(ingress.filter((r) => r.ip_protocol === '2').map((r) => r.cidr_ipv4)).toEqual(['0.0.0.0/32']);
      expect(egress.filter((r) => r.ip_protocol === '2').map((r) => r.cidr_ipv4)).toEqual(['224.0.0.0/4']);
      // nothing wider: every rule names a narrow source or destination
      for (const r of ingress) expect(r.cidr_ipv4).not.toBe('0.0.0.0/0');
      expect(egress.filter((r) => r.cidr_ipv4 === '0.0.0.0/0').map((r) => [r.ip_protocol, r.from_port, r.to_port])).toEqual([['tcp', 443, 443]]);
      // UDP and IGMP only from the node subnets / the querier
      expect(new Set(ingress.filter((r) => r.ip_protocol === 'udp').map((r) => r.cidr_ipv4))).toEqual(new Set(CIDRS));
    });

    it('client keys: a Secrets Manager secret (value from a sensitive variable) the nodes alone may read, referenced by the boot script', () => {
      // when
      let cluster: AwsDnsCluster | undefined;
      const json = synth((s) => {
        const keys = new TerraformVariable(s, 'keys', { type: 'string', sensitive: true });
        cluster = new AwsDnsCluster(s, 'dns', { ...base(), thinprint: { clientKeysValue: keys.stringValue }, installCommands: ['Install-ThinPrint.ps1'] });
      });
      // then
      const secret = one(json, 'aws_secretsmanager_secret');
      expect(secret.name_prefix).toBe('tpcs-thinprint-clients-');
      expect(one(json, 'aws_secretsmanager_secret_version')).toMatchObject({ secret_string_wo: '${var.keys}', secret_string_wo_version: 1 });
      expect(one(json, 'aws_secretsmanager_secret_version').secret_string).toBeUndefined(); // write-only: never in the state
      const arn = `\${aws_secretsmanager_secret.${Object.keys(json.resource.aws_secretsmanager_secret)[0]}.arn}`;
      const policy = JSON.parse(one(json, 'aws_iam_role_policy').policy);
      expect(policy.Statement).toEqual([{ Sid: 'ReadThinPrintClientKeys', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: arn }]);
      const script = Object.values(json.locals)[0] as string;
      expect(script).toContain(`$TpClientKeysSecretRef = 'aws-secretsmanager:${arn}'`);
      expect(script).toContain("$TpNodeNetwork = '10.20.0.0/22'");
      expect(script).toContain("$TpMCastNodeIfBits = [int]'10'");
      expect(script.indexOf('Install-ThinPrint.ps1')).toBeLessThan(script.indexOf("Invoke-Step 'configure the ThinPrint"));
      expect(script).not.toContain('666');
      expect(cluster!.clientKeys!.secretRef).toContain('aws-secretsmanager:');
    });

    it('DMZ alias: an optional CNAME to the cluster name, TTL 30', () => {
      expect(all(synth((s) => new AwsDnsCluster(s, 'dns', base())), 'aws_route53_record').filter((r) => r.type === 'CNAME')).toHaveLength(0);
      const json = synth((s) => new AwsDnsCluster(s, 'dns', { ...base(), dmzAlias: { hostedZoneId: 'Z9999999999ABCDEFGHIJ', name: 'print.example.com' } }));
      expect(all(json, 'aws_route53_record').filter((r) => r.type === 'CNAME')).toEqual([{ type: 'CNAME', name: 'print.example.com', zone_id: 'Z9999999999ABCDEFGHIJ', ttl: 30, records: ['tpcs.corp.example.com'] }]);
    });
  });
});
