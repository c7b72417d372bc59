import { azureGuardSpec, azureProbeProblems, azureProbeSettings } from '../../lib/azure/azure-health-check';
import { guardSettings } from '../../lib/contracts/guard-settings';
import type { AddressInfo } from 'net';
import { createHealthServer } from '../../lib/guard/health-server';
import { GuardMetrics } from '../../lib/guard/metrics';
import type { HealthSnapshot } from '../../lib/guard/election/elector';
import { GUARD_LIVE_PATH } from '../../lib/contracts/guard-endpoints';
import { azureAppServers, onlyResource, paperCutSpec, synth } from './helpers';

const DB = { url: 'postgres://fcadmin@db:5432/papercut?sslmode=require', passwordSource: 'azure-keyvault:https://kv.vault.azure.net/secrets/pw' };

describe('Azure probe timing', () => {
  it('maps I and U onto the probe and assumes H = 1 and T = min(I, 30)', () => {
    expect(azureProbeSettings(paperCutSpec()).effective).toEqual({ intervalSecs: 5, timeoutSecs: 5, healthyThreshold: 1, unhealthyThreshold: 2 });
    const slow = paperCutSpec({ healthCheck: { intervalSecs: 45, timeoutSecs: 10, unhealthyThreshold: 1 }, guard: { failOverIntervalSecs: 240 } });
    expect(azureProbeSettings(slow).effective.timeoutSecs).toBe(30);
  });

  it('accepts the defaults: L − D = 15 ≥ U·I + T = 15', () => {
    expect(azureProbeProblems(paperCutSpec())).toEqual([]);
  });

  it('rejects timings that pass with the spec\'s H = 2, T = 3 but not with Azure\'s H = 1, T = 5', () => {
    // given: L − D = 14 ≥ (2 − 2 + 1)·5 + 3 = 8 for the parser, but < (2 − 1 + 1)·5 + 5 = 15 on Azure
    const spec = paperCutSpec({ guard: { failOverIntervalSecs: 30, renewDeadlineSecs: 16, stopTimeoutSecs: 5 } });

    // when
    const problems = azureProbeProblems(spec);

    // then
    expect(problems).toHaveLength(1);
    expect(problems[0].path).toBe('spec.healthCheck');
    expect(problems[0].message).toMatch(/\(15s\).*healthy threshold 1/);
  });

  it('gives the guard the effective probe timings and the matching drain time', () => {
    // given
    const spec = paperCutSpec();

    // when
    const settings = Object.fromEntries(guardSettings(azureGuardSpec(spec), DB));

    // then
    expect(settings['load-balancer.healthy-threshold']).toBe('1');
    expect(settings['load-balancer.timeout-secs']).toBe('5');
    expect(settings['load-balancer.interval-secs']).toBe('5');
    expect(settings['load-balancer.unhealthy-threshold']).toBe('2');
    expect(settings['health.drain-secs']).toBe('15');
  });
});

describe('the Application Health extension reads the guard as healthy (deploy review)', () => {
  /**
   * What the extension makes of one probe answer, as documented
   * (https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-health-extension,
   * "Binary versus Rich Health States"): version 1.0 (binary) is Healthy on HTTP 200 and
   * Unhealthy otherwise; version 2.0 (rich) takes the state from the body's
   * `ApplicationHealthState` and calls any other body Unknown.
   */
  function extensionState(typeHandlerVersion: string, status: number, body: string): 'Healthy' | 'Unhealthy' | 'Unknown' {
    if (typeHandlerVersion.startsWith('1.')) return status === 200 ? 'Healthy' : 'Unhealthy';
    try {
      const state = (JSON.parse(body) as { ApplicationHealthState?: unknown }).ApplicationHealthState;
      return state === 'Healthy' || state === 'Unhealthy' ? state : 'Unknown';
    } catch {
      return 'Unknown';
    }
  }

  it('probes the running guard (passive, 503 on /health) on the path and port the scale set configures, and gets Healthy', async () => {
    // given: the extension as synthesized, and a real guard health server of a passive node
    const { json } = synth((s) => azureAppServers(s, { spec: paperCutSpec() }));
    const extension = onlyResource(json, 'azurerm_linux_virtual_machine_scale_set').extension.find((e: any) => e.type === 'ApplicationHealthLinux');
    const settings = JSON.parse(extension.settings) as { protocol: string; port: number; requestPath: string };
    const snapshot: HealthSnapshot = { cluster: 'pc', node: 'b', role: 'passive', term: 3, holder: 'a', ready: false, leaseRemainingMs: 0, healthy: false, appUnconfirmed: false };
    const server = createHealthServer({ snapshot: () => snapshot, stepDown: async () => undefined, metrics: new GuardMetrics(() => 0) });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      // when: the probe the extension sends (its port replaced by the test's free one)
      const port = (server.address() as AddressInfo).port;
      expect(settings).toMatchObject({ protocol: 'http', port: paperCutSpec().guard.port, requestPath: GUARD_LIVE_PATH });
      const answer = await fetch(`${settings.protocol}://127.0.0.1:${port}${settings.requestPath}`);
      // then: a passive node is alive, never repaired for being passive
      expect(extensionState(extension.type_handler_version, answer.status, await answer.text())).toBe('Healthy');
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(503);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
