import { AzureLoadBalancer, type AzureLoadBalancerProps } from '../../lib/azure/azure-load-balancer';
import { thinprint, parseClusterSpec } from '../../lib/spec';
import { PLACEMENT, onlyResource, paperCutSpec, resourcesOf, subnetId, synth, propError } from './helpers';

const base = (over: Partial<AzureLoadBalancerProps> = {}): AzureLoadBalancerProps => ({
  ...PLACEMENT,
  spec: paperCutSpec(),
  subnetId: subnetId('app'),
  ...over,
});

describe('AzureLoadBalancer', () => {
  it('builds an internal Standard LB with one rule per port and an HTTP /health probe on the guard port', () => {
    // given / when
    const { json } = synth((s) => new AzureLoadBalancer(s, 'lb', base()));

    // then
    const lb = onlyResource(json, 'azurerm_lb');
    expect(lb.sku).toBe('Standard');
    expect(lb.frontend_ip_configuration[0]).toMatchObject({ subnet_id: subnetId('app'), private_ip_address_allocation: 'Dynamic', zones: ['1', '2', '3'] });
    expect(lb.frontend_ip_configuration[0].public_ip_address_id).toBeUndefined();
    expect(resourcesOf(json, 'azurerm_public_ip')).toHaveLength(0);
    expect(onlyResource(json, 'azurerm_lb_probe')).toMatchObject({ protocol: 'Http', port: 9180, request_path: '/health', interval_in_seconds: 5, probe_threshold: 2 });
    const rules = resourcesOf(json, 'azurerm_lb_rule');
    expect(rules.map((r) => [r.frontend_port, r.backend_port, r.protocol, r.floating_ip_enabled]).sort()).toEqual([
      [9191, 9191, 'Tcp', false],
      [9192, 9192, 'Tcp', false],
      [9193, 9193, 'Tcp', false],
    ]);
    for (const r of rules) expect(r.probe_id).toContain('azurerm_lb_probe');
    for (const r of rules) expect(r.backend_address_pool_ids[0]).toContain('azurerm_lb_backend_address_pool');
  });

  it('maps the spec health check: interval I, probe_threshold U', () => {
    // given
    const spec = paperCutSpec({ healthCheck: { intervalSecs: 6, timeoutSecs: 3, unhealthyThreshold: 2 }, guard: { failOverIntervalSecs: 40 } });

    // when
    const lb = new AzureLoadBalancer(synthScopeHolder(), 'lb', base({ spec }));

    // then
    expect(lb.probeSettings).toEqual({
      intervalInSeconds: 6,
      probeThreshold: 2,
      effective: { intervalSecs: 6, timeoutSecs: 6, healthyThreshold: 1, unhealthyThreshold: 2 },
    });
  });

  it('enables floating IP on every rule when asked', () => {
    // given
    const spec = paperCutSpec({ loadBalancer: { floatingIp: true } });

    // when
    const { json } = synth((s) => new AzureLoadBalancer(s, 'lb', base({ spec, frontendPrivateIp: '10.0.1.10' })));

    // then
    for (const r of resourcesOf(json, 'azurerm_lb_rule')) expect(r.floating_ip_enabled).toBe(true);
    expect(onlyResource(json, 'azurerm_lb').frontend_ip_configuration[0]).toMatchObject({ private_ip_address: '10.0.1.10', private_ip_address_allocation: 'Static' });
  });

  it('creates a zone-redundant Standard public IP for a public scheme', () => {
    // given
    const spec = paperCutSpec({ loadBalancer: { scheme: 'public' } });

    // when
    const { json } = synth((s) => new AzureLoadBalancer(s, 'lb', base({ spec, subnetId: undefined })));

    // then
    expect(onlyResource(json, 'azurerm_public_ip')).toMatchObject({ sku: 'Standard', allocation_method: 'Static', zones: ['1', '2', '3'] });
    expect(onlyResource(json, 'azurerm_lb').frontend_ip_configuration[0].public_ip_address_id).toContain('azurerm_public_ip');
  });

  describe('rejects', () => {
    const cases: Array<[string, Partial<AzureLoadBalancerProps>, string]> = [
      ['a fractional probe interval', { spec: paperCutSpec({ healthCheck: { intervalSecs: 5.5, timeoutSecs: 2 }, guard: { failOverIntervalSecs: 40 } }) }, 'spec.healthCheck.intervalSecs'],
      ['a probe interval below 5 s', { spec: paperCutSpec({ healthCheck: { intervalSecs: 2, timeoutSecs: 1 } }) }, 'spec.healthCheck.intervalSecs'],
      // passes the neutral check with H = 2, T = 3 (needs 13 s) but not Azure's H = 1, T = 5 (needs 15 s)
      ['timings that break the invariant with H = 1', { spec: paperCutSpec({ guard: { failOverIntervalSecs: 30, renewDeadlineSecs: 16, stopTimeoutSecs: 5 } }) }, 'spec.healthCheck'],
      ['layer 7', { spec: paperCutSpec({ loadBalancer: { layer: 7 } }) }, 'spec.loadBalancer.layer'],
      ['a TLS certificate', { spec: paperCutSpec({ loadBalancer: { certificateRef: 'https://kv.vault.azure.net/certificates/c' } }) }, 'spec.loadBalancer.certificateRef'],
      ['an internal LB without a subnet', { subnetId: undefined }, 'subnetId'],
      ['a private frontend IP that is not IPv4', { frontendPrivateIp: '10.0.1' }, 'frontendPrivateIp'],
      ['a private frontend IP on a public LB', { spec: paperCutSpec({ loadBalancer: { scheme: 'public' } }), frontendPrivateIp: '10.0.1.10' }, 'frontendPrivateIp'],
      ['no zones', { zones: [] }, 'zones'],
      ['a DNS-mode profile', { spec: parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }) }, 'spec.profile.failoverMode'],
    ];
    it.each(cases)('%s, naming the prop', (_what, over, prop) => {
      // given
      const props = base(over);

      // when / then
      expect(() => synth((s) => new AzureLoadBalancer(s, 'lb', props))).toThrow(propError('AzureLoadBalancer', prop));
    });
  });
});

function synthScopeHolder() {
  // a throwaway stack: these tests read construct fields, not the JSON
  let scope: any;
  synth((s) => (scope = s));
  return scope;
}
