import type { Problem } from '../core/problems';

/**
 * Guard timings, all in seconds. Letters follow the design: L lease TTL, R renew period,
 * Q query timeout, D local renew deadline (monotonic), S service stop timeout.
 */
export interface GuardTimings {
  /** L: lease TTL in database time; a passive node takes over this long after the last renew. */
  readonly failOverIntervalSecs: number;
  /** After winning the lease the app must be ready within this time, else release + back off. */
  readonly startupTimeoutSecs: number;
  /** R: how often the active node renews and passive nodes poll. */
  readonly renewPeriodSecs: number;
  /** Q: timeout of one lease statement (≤ R). */
  readonly queryTimeoutSecs: number;
  /** D: without a successful renew for this long (monotonic clock) the node fences itself. */
  readonly renewDeadlineSecs: number;
  /** S: SIGTERM → SIGKILL (or service stop) timeout when stopping the app. */
  readonly stopTimeoutSecs: number;
}

/** Load-balancer health-check timings: probe interval I, timeout T, thresholds H and U. */
export interface HealthCheckTimings {
  readonly intervalSecs: number;
  readonly timeoutSecs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** Only L (and optionally any other timing) given; the rest derived by {@link deriveGuardTimings}. */
export type GuardTimingsInput = Pick<GuardTimings, 'failOverIntervalSecs'> & Partial<GuardTimings>;

export const DEFAULT_FAIL_OVER_INTERVAL_SECS = 30;
export const DEFAULT_STARTUP_TIMEOUT_SECS = 300;

/** Rounds to milliseconds so derived values print cleanly (0.1 + 0.2 style noise). */
const ms = (secs: number): number => Math.round(secs * 1000) / 1000;

/**
 * Derives the timings a user did not set from L, so that every default combination satisfies
 * the invariants:
 * - R = max(1, L/10): ten renew chances per lease; at least 1 s so the DB sees ≤ 1 statement/s/node.
 * - Q = R/2: a hung statement is abandoned in time for the next period.
 * - D = max(L/2, R + 2Q): half the lease is the fencing budget, the other half covers stop + skew.
 * - S = L − D − 1, at most 60: the app is gone a full second before the lease can move.
 * With L = 6 this gives R 1, Q 0.5, D 3, S 2 (the drill/test setting).
 */
export function deriveGuardTimings(input: GuardTimingsInput): GuardTimings {
  const L = input.failOverIntervalSecs;
  const R = input.renewPeriodSecs ?? ms(Math.max(1, L / 10));
  const Q = input.queryTimeoutSecs ?? ms(R / 2);
  const D = input.renewDeadlineSecs ?? ms(Math.max(L / 2, R + 2 * Q));
  const S = input.stopTimeoutSecs ?? ms(Math.max(1, Math.min(60, L - D - 1)));
  return {
    failOverIntervalSecs: L,
    startupTimeoutSecs: input.startupTimeoutSecs ?? DEFAULT_STARTUP_TIMEOUT_SECS,
    renewPeriodSecs: R,
    queryTimeoutSecs: Q,
    renewDeadlineSecs: D,
    stopTimeoutSecs: S,
  };
}

/**
 * Drain time on a graceful release: /health answers 503 for U·I + T so the load balancer has
 * marked the node down before the app stops.
 */
export function drainSecs(hc: HealthCheckTimings): number {
  return ms(hc.unhealthyThreshold * hc.intervalSecs + hc.timeoutSecs);
}

/** Names under which each timing is reported: spec paths or guard config keys. */
export type TimingNames = Record<keyof GuardTimings, string> & { readonly healthCheck: string };

/**
 * The design's timing invariants. Each problem names the field that most directly fixes it.
 * - Q ≤ R and R + 2Q ≤ D: a node gets at least one renew with retries inside its deadline.
 * - D + S < L: a fenced node has stopped its app before the lease can expire for the others.
 * - L − D ≥ (U − H + 1)·I + T (when the LB timings are known): the LB has marked the old node
 *   down before it can mark the new one up.
 */
export function timingProblems(t: GuardTimings, names: TimingNames, hc?: HealthCheckTimings): Problem[] {
  const problems: Problem[] = [];
  const { failOverIntervalSecs: L, renewPeriodSecs: R, queryTimeoutSecs: Q, renewDeadlineSecs: D, stopTimeoutSecs: S } = t;
  if (Q > R) {
    problems.push({ path: names.queryTimeoutSecs, message: `query timeout (${Q}s) must be ≤ the renew period (${R}s)` });
  }
  if (R + 2 * Q > D) {
    problems.push({
      path: names.renewDeadlineSecs,
      message: `renew deadline D (${D}s) must be ≥ renew period + 2 × query timeout (${ms(R + 2 * Q)}s)`,
    });
  }
  if (D + S >= L) {
    problems.push({
      path: names.stopTimeoutSecs,
      message: `renew deadline + stop timeout (${ms(D + S)}s) must be < ${names.failOverIntervalSecs} (${L}s), so a fenced node has stopped its app before the lease moves`,
    });
  }
  if (hc) {
    const needed = ms((hc.unhealthyThreshold - hc.healthyThreshold + 1) * hc.intervalSecs + hc.timeoutSecs);
    if (L - D < needed) {
      problems.push({
        path: names.healthCheck,
        message: `${names.failOverIntervalSecs} − renew deadline (${ms(L - D)}s) must be ≥ (unhealthy − healthy threshold + 1) × interval + timeout (${needed}s), so the load balancer drops the old node before it admits the new one`,
      });
    }
  }
  return problems;
}
