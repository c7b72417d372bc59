import { AzureDnsCluster, trafficManagerMonitor, type AzureDnsClusterProps } from '../../lib/azure/azure-dns-cluster';
import { custom, parseClusterSpec, thinprint } from '../../lib/spec';
import { onlyResource, paperCutSpec, resourcesOf, synth, propError } from './helpers';

/** An active/active app of ThinPrint's shape that needs no node-to-node channel (ThinPrint itself cannot run this way on Azure). */
const dnsProfile = custom({ displayName: 'Acme DNS', os: 'windows', failoverMode: 'dns', ports: [{ name: 'default', port: 4000 }, { name: 'clients', port: 4001 }, { name: 'servers', port: 4002 }], installDir: 'C:\\Acme', serviceName: 'Acme', readiness: { kind: 'tcp', port: 4001 } });
const tpSpec = (over: Record<string, unknown> = {}) => parseClusterSpec({ name: 'tp', profile: dnsProfile, ...over });
const base = (over: Partial<AzureDnsClusterProps> = {}): AzureDnsClusterProps => ({
  spec: tpSpec(),
  resourceGroupName: 'rg',
  nodeAddresses: ['20.1.2.3', '20.1.2.4'],
  ...over,
});

describe('AzureDnsCluster', () => {
  it('builds a MultiValue Traffic Manager profile, TTL 30, TCP monitoring on the client port 4001', () => {
    // given / when
    const { json } = synth((s) => new AzureDnsCluster(s, 'dns', base()));

    // then
    expect(onlyResource(json, 'azurerm_traffic_manager_profile')).toMatchObject({
      traffic_routing_method: 'MultiValue',
      max_return: 2,
      dns_config: { relative_name: 'tp', ttl: 30 },
      monitor_config: { protocol: 'TCP', port: 4001, interval_in_seconds: 10, timeout_in_seconds: 5, tolerated_number_of_failures: 1 },
    });
  });

  it('adds one enabled external endpoint per node address', () => {
    // given / when
    const { json } = synth((s) => new AzureDnsCluster(s, 'dns', base({ spec: tpSpec({ nodeCount: 3 }), nodeAddresses: ['20.1.2.3', '20.1.2.4', '20.1.2.5'] })));

    // then
    const endpoints = resourcesOf(json, 'azurerm_traffic_manager_external_endpoint');
    expect(endpoints.map((e) => e.target).sort()).toEqual(['20.1.2.3', '20.1.2.4', '20.1.2.5']);
    for (const e of endpoints) expect(e).toMatchObject({ enabled: true, profile_id: expect.stringContaining('azurerm_traffic_manager_profile') });
  });

  it('maps slow health checks onto the 30 s interval and clamps timeout and failures', () => {
    // given
    const spec = tpSpec({ healthCheck: { intervalSecs: 60, timeoutSecs: 20, unhealthyThreshold: 10 } });

    // when / then
    expect(trafficManagerMonitor(spec, 4001)).toEqual({ protocol: 'TCP', port: 4001, intervalInSeconds: 30, timeoutInSeconds: 10, toleratedNumberOfFailures: 9 });
  });

  describe('rejects', () => {
    const cases: Array<[string, Partial<AzureDnsClusterProps>, string]> = [
      ['a guard-mode profile', { spec: paperCutSpec() }, 'spec.profile.failoverMode'],
      ['fewer addresses than nodes', { nodeAddresses: ['20.1.2.3'] }, 'nodeAddresses'],
      ['a host name instead of an address', { nodeAddresses: ['20.1.2.3', 'tp2.example.com'] }, 'nodeAddresses[1]'],
      ['the same address twice', { nodeAddresses: ['20.1.2.3', '20.1.2.3'] }, 'nodeAddresses[1]'],
      ['a bad DNS label', { relativeName: 'TP_cluster' }, 'relativeName'],
      ['a monitor port outside the spec', { monitorPort: 80 }, 'monitorPort'],
      ['a negative TTL', { ttlSecs: -1 }, 'ttlSecs'],
    ];
    it.each(cases)('%s, naming the prop', (_what, over, prop) => {
      expect(() => synth((s) => new AzureDnsCluster(s, 'dns', base(over)))).toThrow(propError('AzureDnsCluster', prop));
    });
  });

  it('refuses ThinPrint dns-multicast: Azure carries no multicast, naming spec.profile.clusterMode', () => {
    const spec = parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) });
    expect(() => synth((s) => new AzureDnsCluster(s, 'dns', base({ spec })))).toThrow(/- spec\.profile\.clusterMode: Azure virtual networks carry no multicast/);
  });
});
