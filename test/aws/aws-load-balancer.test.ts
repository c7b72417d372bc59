import { AwsLoadBalancer } from '../../lib/aws/aws-load-balancer';
import { all, errorOf, NET, one, papercutSpec, synth } from './aws-test-support';
import { papercut, thinprint, parseClusterSpec } from '../../lib/spec';

const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';

describe('AwsLoadBalancer', () => {
  it("Print Deploy on: its port gets a listener and a target group with the guard's health check", () => {
    // given / when
    const spec = parseClusterSpec({ name: 'pc', profile: papercut({ printDeploy: true }) });
    const json = synth((s) => new AwsLoadBalancer(s, 'lb', { spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds] }));
    // then
    const pd = all(json, 'aws_lb_target_group').find((g) => g.port === 9263);
    expect(pd).toMatchObject({ protocol: 'TCP', health_check: { protocol: 'HTTP', port: '9180', path: '/health' } });
    expect(all(json, 'aws_lb_listener').map((l) => l.port)).toContain(9263);
  });

  it('defaults: internal NLB, cross-zone, one TCP listener + target group per PaperCut port', () => {
    // given / when
    const json = synth((s) => new AwsLoadBalancer(s, 'lb', { spec: papercutSpec(), vpcId: NET.vpcId, subnetIds: [...NET.subnetIds] }));
    // then
    const lb = one(json, 'aws_lb');
    expect(lb).toMatchObject({ load_balancer_type: 'network', internal: true, enable_cross_zone_load_balancing: true, subnets: NET.subnetIds });
    const groups = all(json, 'aws_lb_target_group');
    expect(groups.map((g) => g.port).sort()).toEqual([9191, 9192, 9193]);
    for (const g of groups) {
      expect(g).toMatchObject({
        protocol: 'TCP',
        preserve_client_ip: 'true',
        connection_termination: true,
        deregistration_delay: '13',
        health_check: { protocol: 'HTTP', port: '9180', path: '/health', matcher: '200', interval: 5, timeout: 3, healthy_threshold: 2, unhealthy_threshold: 2 },
      });
    }
    const listeners = all(json, 'aws_lb_listener');
    expect(listeners.map((l) => [l.port, l.protocol]).sort()).toEqual([[9191, 'TCP'], [9192, 'TCP'], [9193, 'TCP']]);
    // clients: the VPC's CIDR (looked up), on the listener ports only
    expect(one(json, 'aws_vpc', 'data').id).toBe(NET.vpcId);
    const rules = all(json, 'aws_vpc_security_group_ingress_rule');
    expect(rules.map((r) => r.from_port).sort()).toEqual([9191, 9192, 9193]);
    for (const r of rules) expect(r.cidr_ipv4).toMatch(/data\.aws_vpc\..*\.cidr_block/);
  });

  it('takes the spec health-check timings, rounding the timeout up to whole seconds', () => {
    // given
    const spec = papercutSpec({ healthCheck: { intervalSecs: 10, timeoutSecs: 4.2, healthyThreshold: 3, unhealthyThreshold: 3 }, guard: { failOverIntervalSecs: 60 } });
    // when
    const json = synth((s) => new AwsLoadBalancer(s, 'lb', { spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds] }));
    // then
    expect(all(json, 'aws_lb_target_group')[0].health_check).toMatchObject({ interval: 10, timeout: 5, healthy_threshold: 3, unhealthy_threshold: 3 });
    // deregistration delay = drain with the AWS values: 3 × 10 + 5
    expect(all(json, 'aws_lb_target_group')[0].deregistration_delay).toBe('35');
  });

  it('vpcCidr, allowedCidrs, preserveClientIp, deregistrationDelaySecs', () => {
    // given
    const spec = papercutSpec({ loadBalancer: { allowedCidrs: ['10.1.0.0/16', '192.168.0.0/24'], preserveClientIp: false } });
    // when
    const json = synth((s) => new AwsLoadBalancer(s, 'lb', { spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], vpcCidr: NET.vpcCidr, deregistrationDelaySecs: 5 }));
    // then
    const cidrs = all(json, 'aws_vpc_security_group_ingress_rule').map((r) => r.cidr_ipv4);
    expect(new Set(cidrs)).toEqual(new Set(['10.1.0.0/16', '192.168.0.0/24']));
    expect(json.data?.aws_vpc).toBeUndefined();
    expect(all(json, 'aws_lb_target_group')[0]).toMatchObject({ preserve_client_ip: 'false', deregistration_delay: '5' });
  });

  it('vpcCidr is the default client range of an internal load balancer', () => {
    const json = synth((s) => new AwsLoadBalancer(s, 'lb', { spec: papercutSpec(), vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], vpcCidr: NET.vpcCidr }));
    expect(new Set(all(json, 'aws_vpc_security_group_ingress_rule').map((r) => r.cidr_ipv4))).toEqual(new Set([NET.vpcCidr]));
  });

  it('public scheme: public subnets, open to the internet only when asked', () => {
    // given
    const spec = papercutSpec({ loadBalancer: { scheme: 'public' } });
    // when
    const json = synth((s) => new AwsLoadBalancer(s, 'lb', { spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], publicSubnetIds: [...NET.publicSubnetIds] }));
    // then
    expect(one(json, 'aws_lb')).toMatchObject({ internal: false, subnets: NET.publicSubnetIds });
    expect(new Set(all(json, 'aws_vpc_security_group_ingress_rule').map((r) => r.cidr_ipv4))).toEqual(new Set(['0.0.0.0/0']));
  });

  it('TLS listener with the ACM certificate, forwarding to the http port; tlsPort and tlsTargetPortName', () => {
    // given
    const spec = papercutSpec({ loadBalancer: { certificateRef: CERT } });
    // when
    const json = synth((s) => new AwsLoadBalancer(s, 'lb', { spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], vpcCidr: NET.vpcCidr }));
    const custom = synth((s) => new AwsLoadBalancer(s, 'lb', { spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], vpcCidr: NET.vpcCidr, tlsPort: 8443, tlsTargetPortName: 'https' }));
    // then
    const tls = all(json, 'aws_lb_listener').find((l) => l.protocol === 'TLS')!;
    expect(tls).toMatchObject({ port: 443, certificate_arn: CERT, ssl_policy: expect.stringContaining('TLS13') });
    expect(tls.default_action[0].target_group_arn).toContain('tg-http');
    expect(all(json, 'aws_vpc_security_group_ingress_rule').map((r) => r.from_port)).toContain(443);
    const tls2 = all(custom, 'aws_lb_listener').find((l) => l.protocol === 'TLS')!;
    expect(tls2.port).toBe(8443);
    expect(tls2.default_action[0].target_group_arn).toContain('tg-https');
  });

  it('aliasRecord: a Route 53 alias to the load balancer', () => {
    const json = synth((s) => new AwsLoadBalancer(s, 'lb', { spec: papercutSpec(), vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], vpcCidr: NET.vpcCidr, aliasRecord: { hostedZoneId: 'Z123', name: 'print.corp.example.com' } }));
    expect(one(json, 'aws_route53_record')).toMatchObject({ zone_id: 'Z123', name: 'print.corp.example.com', type: 'A', alias: { evaluate_target_health: true } });
  });

  it('keeps names within the 32-character AWS limit', () => {
    const spec = papercutSpec({ name: 'a-very-long-cluster-name-for-tests' .slice(0, 32) });
    const json = synth((s) => new AwsLoadBalancer(s, 'lb', { spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], vpcCidr: NET.vpcCidr }));
    for (const r of [one(json, 'aws_lb'), ...all(json, 'aws_lb_target_group')]) expect(r.name.length).toBeLessThanOrEqual(32);
    expect(new Set(all(json, 'aws_lb_target_group').map((g) => g.name)).size).toBe(3);
  });

  describe('validation (each message names the prop)', () => {
    const base = { vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], vpcCidr: NET.vpcCidr };
    it.each([
      ['spec.healthCheck.intervalSecs', () => ({ ...base, spec: papercutSpec({ healthCheck: { intervalSecs: 4, timeoutSecs: 2 } }) })],
      ['spec.healthCheck.intervalSecs', () => ({ ...base, spec: papercutSpec({ healthCheck: { intervalSecs: 5.5 } }) })],
      ['spec.healthCheck.timeoutSecs', () => ({ ...base, spec: papercutSpec({ healthCheck: { intervalSecs: 5, timeoutSecs: 4.5 } }) })],
      ['spec.healthCheck.healthyThreshold', () => ({ ...base, spec: papercutSpec({ healthCheck: { healthyThreshold: 1 } }) })],
      ['spec.healthCheck.unhealthyThreshold', () => ({ ...base, spec: papercutSpec({ healthCheck: { unhealthyThreshold: 1, healthyThreshold: 2 } }) })],
      // spec-valid: L − D = 7.5 ≥ 1·5 + 2.5; AWS rounds T up to 3 and then needs 8 > 7.5
      ['spec.healthCheck', () => ({ ...base, spec: papercutSpec({ healthCheck: { intervalSecs: 5, timeoutSecs: 2.5 }, guard: { failOverIntervalSecs: 16, renewDeadlineSecs: 8.5, stopTimeoutSecs: 1 } }) })],
      ['subnetIds', () => ({ ...base, subnetIds: [NET.subnetIds[0]], spec: papercutSpec() })],
      ['publicSubnetIds', () => ({ ...base, spec: papercutSpec({ loadBalancer: { scheme: 'public' } }) })],
      ['spec.loadBalancer.certificateRef', () => ({ ...base, spec: papercutSpec({ loadBalancer: { certificateRef: 'my-cert' } }) })],
      ['spec.loadBalancer.layer', () => ({ ...base, spec: papercutSpec({ loadBalancer: { layer: 7 } }) })],
      ['spec.loadBalancer.floatingIp', () => ({ ...base, spec: papercutSpec({ loadBalancer: { floatingIp: true } }) })],
      ['spec.profile.failoverMode', () => ({ ...base, spec: parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }) })],
      ['tlsPort', () => ({ ...base, tlsPort: 9191, spec: papercutSpec({ loadBalancer: { certificateRef: CERT } }) })],
      ['tlsTargetPortName', () => ({ ...base, tlsTargetPortName: 'nope', spec: papercutSpec({ loadBalancer: { certificateRef: CERT } }) })],
      ['deregistrationDelaySecs', () => ({ ...base, deregistrationDelaySecs: 4000, spec: papercutSpec() })],
    ])('%s', (prop, props) => {
      // given
      const p = props();
      // when
      const message = errorOf((s) => new AwsLoadBalancer(s, 'lb', p));
      // then
      expect(message).toContain(`${prop}:`);
    });
  });
});
