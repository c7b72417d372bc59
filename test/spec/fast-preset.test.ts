/**
 * The `fast` presets are valid where they are meant to run: every service mode's timing rule, the
 * spec's load-balancer rule, and the cloud's own health-check rule (NLB limits, Azure's probe).
 */
import { nlbHealthCheck } from '../../lib/aws/aws-health-check';
import { azureProbeProblems } from '../../lib/azure/azure-health-check';
import { custom, papercut, parseClusterSpec, type ClusterSpecInput } from '../../lib/spec';
import { FAST_PRESET, FAST_PRESET_AZURE, timingProblems, type ServiceMode } from '../../lib/contracts/timing';
import { specTimingPaths } from '../../lib/contracts/timing-names';

const windows = custom({ displayName: 'app', os: 'windows', ports: [{ name: 'http', port: 8080 }], installDir: 'C:\\app', serviceName: 'App', readiness: { kind: 'tcp', port: 8080 } });

describe('the fast preset', () => {
  it.each([
    ['PaperCut on Linux (systemd)', papercut()],
    ['an app on Windows (windows-service)', windows],
  ])('AWS: %s passes the spec and the NLB check', (_what, profile) => {
    // given / when
    const spec = parseClusterSpec({ name: 'print', profile, ...FAST_PRESET } satisfies ClusterSpecInput);
    // then: L 10, D 3, R 1, Q 0.4, and the NLB accepts the check as it is
    expect(spec.guard).toMatchObject({ failOverIntervalSecs: 10, renewDeadlineSecs: 3, renewPeriodSecs: 1, queryTimeoutSecs: 0.4 });
    expect(nlbHealthCheck(spec).problems).toEqual([]);
  });

  it('holds L − D ≥ K + M in every service mode', () => {
    const spec = parseClusterSpec({ name: 'print', profile: papercut(), ...FAST_PRESET });
    for (const mode of ['exec', 'systemd', 'windows-service'] as ServiceMode[]) expect(timingProblems(spec.guard, specTimingPaths(), spec.healthCheck, mode)).toEqual([]);
  });

  it('Azure needs its own: the probe rule rejects the AWS preset and accepts FAST_PRESET_AZURE', () => {
    const aws = parseClusterSpec({ name: 'print', profile: papercut(), ...FAST_PRESET });
    expect(azureProbeProblems(aws).map((p) => p.path)).toEqual(['spec.healthCheck']);
    for (const profile of [papercut(), windows]) {
      const spec = parseClusterSpec({ name: 'print', profile, ...FAST_PRESET_AZURE });
      expect(azureProbeProblems(spec)).toEqual([]);
    }
  });
});
