import { azureGuardSpec, azureProbeProblems, azureProbeSettings } from '../../lib/azure/azure-health-check';
import { guardSettings } from '../../lib/spec';
import { paperCutSpec } from './helpers';

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
