import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { drainSecs, timingProblems, type HealthCheckTimings } from '../contracts/timing';
import { specTimingPaths } from '../contracts/timing-names';

/**
 * Azure's HTTP probe has no timeout setting: a probe fails without an answer within the
 * smaller of the interval and 30 s.
 */
export const AZURE_PROBE_TIMEOUT_CAP_SECS = 30;
/** Azure rejects probe intervals below 5 s. */
export const AZURE_MIN_PROBE_INTERVAL_SECS = 5;
/** The largest `probe_threshold` Azure accepts. */
export const AZURE_MAX_PROBE_THRESHOLD = 100;

/** How the spec's health check maps onto an Azure Load Balancer probe. */
export interface AzureProbeSettings {
  /** `interval_in_seconds` = I. */
  readonly intervalInSeconds: number;
  /** `probe_threshold` = U (consecutive failures before a node is taken out). */
  readonly probeThreshold: number;
  /**
   * The timings the load balancer really uses: I, U, timeout min(I, 30) and a healthy
   * threshold of 1 (an Azure probe puts a node back after one success).
   */
  readonly effective: HealthCheckTimings;
}

/** The Azure probe settings for the spec's health check, and the timings Azure really uses. */
export function azureProbeSettings(spec: ClusterSpec): AzureProbeSettings {
  const { intervalSecs, unhealthyThreshold } = spec.healthCheck;
  return {
    intervalInSeconds: intervalSecs,
    probeThreshold: unhealthyThreshold,
    effective: {
      intervalSecs,
      timeoutSecs: Math.min(intervalSecs, AZURE_PROBE_TIMEOUT_CAP_SECS),
      healthyThreshold: 1,
      unhealthyThreshold,
    },
  };
}

/**
 * Azure's limits on the probe, and the load-balancer rule of {@link timingProblems} re-checked
 * with the values Azure will actually use (H = 1, T = min(I, 30)). Paths are the construct's
 * `spec` prop.
 */
export function azureProbeProblems(spec: ClusterSpec): Problem[] {
  const problems: Problem[] = [];
  const { intervalSecs, unhealthyThreshold } = spec.healthCheck;
  if (!Number.isInteger(intervalSecs) || intervalSecs < AZURE_MIN_PROBE_INTERVAL_SECS) {
    problems.push({
      path: 'spec.healthCheck.intervalSecs',
      message: `${intervalSecs} is not allowed: an Azure load balancer probe interval must be a whole number of seconds ≥ ${AZURE_MIN_PROBE_INTERVAL_SECS}`,
    });
    return problems;
  }
  if (unhealthyThreshold < 1 || unhealthyThreshold > AZURE_MAX_PROBE_THRESHOLD) {
    problems.push({ path: 'spec.healthCheck.unhealthyThreshold', message: `must be 1–${AZURE_MAX_PROBE_THRESHOLD} (Azure probe_threshold)` });
  }
  const names = specTimingPaths('spec.');
  const invariant = timingProblems(spec.guard, names, azureProbeSettings(spec).effective).filter((p) => p.path === names.healthCheck);
  return [
    ...problems,
    ...invariant.map((p) => ({
      path: p.path,
      message: `${p.message} (with Azure's probe: healthy threshold 1, timeout min(interval, ${AZURE_PROBE_TIMEOUT_CAP_SECS}s))`,
    })),
  ];
}

/**
 * The spec the guard and boot script get on Azure: the health check replaced by the timings
 * the Azure probe really uses, so the guard's own invariant check and its drain time
 * ({@link drainSecs}) match the load balancer instead of the cloud-neutral defaults.
 */
export function azureGuardSpec(spec: ClusterSpec): ClusterSpec {
  const effective = azureProbeSettings(spec).effective;
  return { ...spec, healthCheck: effective, guard: { ...spec.guard, drainSecs: drainSecs(effective) } };
}
