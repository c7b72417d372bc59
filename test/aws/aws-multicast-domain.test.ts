import { AwsMulticastDomain, type AwsMulticastDomainProps } from '../../lib/aws/aws-multicast-domain';
import { parseClusterSpec, thinprint } from '../../lib/spec';
import { all, errorOf, NET, one, synth } from './aws-test-support';

const spec = parseClusterSpec({ name: 'tpcs', profile: thinprint({ clusterMode: 'dns-multicast' }), tags: { team: 'print' } });
const base = (): AwsMulticastDomainProps => ({ spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds] });

describe('AwsMulticastDomain', () => {
  it('a multicast transit gateway, isolated from other attachments, with an IGMPv2 domain over the subnets', () => {
    // when
    const json = synth((s) => new AwsMulticastDomain(s, 'mc', base()));
    // then
    expect(one(json, 'aws_ec2_transit_gateway')).toMatchObject({ multicast_support: 'enable', auto_accept_shared_attachments: 'disable', tags: { team: 'print', 'failover-cluster': 'tpcs', Name: 'tpcs-multicast' } });
    expect(one(json, 'aws_ec2_transit_gateway_vpc_attachment')).toMatchObject({ transit_gateway_default_route_table_association: false, transit_gateway_default_route_table_propagation: false });
    expect(one(json, 'aws_ec2_transit_gateway_multicast_domain')).toMatchObject({ igmpv2_support: 'enable', static_sources_support: 'disable' });
    expect(all(json, 'aws_ec2_transit_gateway_multicast_domain_association')).toHaveLength(2);
  });

  it('static members for given interfaces, also added later', () => {
    // when
    let domain!: AwsMulticastDomain;
    const json = synth((s) => {
      domain = new AwsMulticastDomain(s, 'mc', { ...base(), groupAddress: '239.1.2.3', memberNetworkInterfaceIds: ['eni-0123456789abcdef0'] });
      domain.addStaticMembers(['eni-0fedcba9876543210']);
    });
    // then
    expect(all(json, 'aws_ec2_transit_gateway_multicast_group_member').map((m) => [m.group_ip_address, m.network_interface_id])).toEqual([
      ['239.1.2.3', 'eni-0123456789abcdef0'],
      ['239.1.2.3', 'eni-0fedcba9876543210'],
    ]);
    expect(domain.members).toHaveLength(2);
  });

  describe('validation (each message names the prop)', () => {
    it.each<[string, Partial<AwsMulticastDomainProps>]>([
      ['subnetIds', { subnetIds: ['subnet-1'] }],
      ['groupAddress', { groupAddress: '240.0.0.1' }],
      ['groupAddress', { groupAddress: 'group' }],
      ['memberNetworkInterfaceIds', { memberNetworkInterfaceIds: ['eni-0123456789abcdef0'] }],
    ])('%s', (prop, extra) => {
      expect(errorOf((s) => new AwsMulticastDomain(s, 'mc', { ...base(), ...extra }))).toContain(`${prop}:`);
    });
    it('addStaticMembers without a group address', () => {
      expect(errorOf((s) => new AwsMulticastDomain(s, 'mc', base()).addStaticMembers(['eni-0123456789abcdef0']))).toContain('static members need groupAddress');
    });
  });
});
