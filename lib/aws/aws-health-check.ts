import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { drainSecs, timingProblems, type HealthCheckTimings } from '../contracts/timing';
import { GUARD_HEALTH_PATH } from '../contracts/guard-endpoints';
import { specTimingPaths } from '../contracts/timing-names';

/** The NLB target-group health check the spec maps to, in the whole seconds AWS accepts. */
export interface NlbHealthCheck extends HealthCheckTimings {
  /** The guard's port. */
  readonly port: number;
  /** The guard's health endpoint. */
  readonly path: typeof GUARD_HEALTH_PATH;
}

/** Prop paths for the invariant re-check: `spec.guard.<timing>`, and `spec.healthCheck` for the LB side. */
const TIMING_NAMES = specTimingPaths('spec.');

/**
 * Maps the spec's health check onto an NLB target-group health check. AWS limits: interval
 * 5–300 whole seconds, timeout 2–120 whole seconds, thresholds 2–10. The interval must already
 * be whole (changing it would change failover time); the timeout is rounded up to whole
 * seconds, at least 2 (a longer timeout is the safe direction), and the load-balancer rule of
 * {@link timingProblems} is re-checked with the values AWS will actually use.
 */
export function nlbHealthCheck(spec: ClusterSpec): { readonly check: NlbHealthCheck; readonly problems: Problem[] } {
  const hc = spec.healthCheck;
  const problems: Problem[] = [];
  if (!Number.isInteger(hc.intervalSecs) || hc.intervalSecs < 5 || hc.intervalSecs > 300) {
    problems.push({ path: 'spec.healthCheck.intervalSecs', message: `AWS NLB health checks run every 5–300 whole seconds (got ${hc.intervalSecs})` });
  }
  const timeoutSecs = Math.max(2, Math.ceil(hc.timeoutSecs));
  if (timeoutSecs >= hc.intervalSecs) {
    problems.push({
      path: 'spec.healthCheck.timeoutSecs',
      message: `rounded to AWS's whole seconds (min 2) it is ${timeoutSecs}s, which must be < healthCheck.intervalSecs (${hc.intervalSecs}s)`,
    });
  }
  if (hc.healthyThreshold < 2) {
    problems.push({ path: 'spec.healthCheck.healthyThreshold', message: `AWS NLB thresholds are 2–10 (got ${hc.healthyThreshold})` });
  }
  if (hc.unhealthyThreshold < 2) {
    problems.push({ path: 'spec.healthCheck.unhealthyThreshold', message: `AWS NLB thresholds are 2–10 (got ${hc.unhealthyThreshold})` });
  }
  const check: NlbHealthCheck = {
    intervalSecs: hc.intervalSecs,
    timeoutSecs,
    healthyThreshold: hc.healthyThreshold,
    unhealthyThreshold: hc.unhealthyThreshold,
    port: spec.guard.port,
    path: GUARD_HEALTH_PATH,
  };
  if (problems.length === 0) {
    const invariant = timingProblems(spec.guard, TIMING_NAMES, check).filter((p) => p.path === TIMING_NAMES.healthCheck);
    problems.push(...invariant.map((p) => ({ path: p.path, message: `with the AWS health check (timeout ${timeoutSecs}s): ${p.message}` })));
  }
  return { check, problems };
}

/**
 * The spec as AWS runs it: the health check replaced by the NLB's (rounded) values and the
 * guard's drain time recomputed from them, so the guard config and the load balancer agree.
 */
export function withNlbHealthCheck(spec: ClusterSpec, check: HealthCheckTimings): ClusterSpec {
  const healthCheck = {
    intervalSecs: check.intervalSecs,
    timeoutSecs: check.timeoutSecs,
    healthyThreshold: check.healthyThreshold,
    unhealthyThreshold: check.unhealthyThreshold,
  };
  return { ...spec, healthCheck, guard: { ...spec.guard, drainSecs: drainSecs(healthCheck) } };
}
