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

/** The renew period is jittered by ±this fraction, so one gap between renews can be (1 + RENEW_JITTER)·R. */
export const RENEW_JITTER = 0.1;

/**
 * The safety margin L − D − S must be at least max(2 s, L/10): it covers a stalled guard (the
 * watchdog's timeout, see {@link watchdogSecs}), the time the service manager needs to act on
 * the kill, and clock-rate drift between the database and the node.
 */
export function minMarginSecs(failOverIntervalSecs: number): number {
  return ms(Math.max(2, failOverIntervalSecs / 10));
}

/**
 * Watchdog timeout W for the margin M = L − D − S: three quarters of it (the rest is for the
 * service manager to act and for drift). A guard that stalls just before its deadline D is
 * killed by W later and its app is gone S after that: D + W + S < L. systemd mode renders it as
 * the guard unit's `WatchdogSec=`; exec mode uses it for the heartbeat watchdog.
 */
export function watchdogSecs(t: GuardTimings): number {
  const margin = t.failOverIntervalSecs - t.renewDeadlineSecs - t.stopTimeoutSecs;
  return ms(Math.max(0.5, Math.min(30, margin * 0.75)));
}

/**
 * Exec mode's heartbeat watchdog: it SIGKILLs the app itself (no stop timeout to wait for), so a
 * guard that stalled at most D after its last renew start has its app gone by D + W' < L with
 * W' = L − D − M/2 (half the margin left for the kill and drift). Never shorter than W.
 */
export function execWatchdogSecs(t: GuardTimings): number {
  const margin = t.failOverIntervalSecs - t.renewDeadlineSecs - t.stopTimeoutSecs;
  return ms(Math.max(watchdogSecs(t), Math.min(60, t.failOverIntervalSecs - t.renewDeadlineSecs - margin / 2)));
}

/**
 * Derives the timings a user did not set from L, so that every default combination satisfies
 * the invariants:
 * - R = max(1, L/10): ten renew chances per lease; at least 1 s so the DB sees ≤ 1 statement/s/node.
 * - Q = 0.4·R: a hung statement is abandoned in time for a retry inside D even with jitter.
 * - D = max(1.1·R + 2Q, min(L/2, L − M − S)) with M = {@link minMarginSecs} and S as given (else 1):
 *   half the lease is the fencing budget unless the stop timeout and margin need more of it.
 * - S = L − D − M, at most 60, at least 1.
 * With L = 6 this gives R 1, Q 0.4, D 3, S 1; with L = 6 and S = 2 it gives D 2 (the drill/test setting).
 */
export function deriveGuardTimings(input: GuardTimingsInput): GuardTimings {
  const L = input.failOverIntervalSecs;
  const R = input.renewPeriodSecs ?? ms(Math.max(1, L / 10));
  const Q = input.queryTimeoutSecs ?? ms(R * 0.4);
  const M = minMarginSecs(L);
  const D = input.renewDeadlineSecs ?? ms(Math.max((1 + RENEW_JITTER) * R + 2 * Q, Math.min(L / 2, L - M - (input.stopTimeoutSecs ?? 1))));
  const S = input.stopTimeoutSecs ?? ms(Math.max(1, Math.min(60, L - D - M)));
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

/** The shortest lease TTL L a guard accepts. */
export const MIN_FAIL_OVER_INTERVAL_SECS = 5;

/** The six guard timings, in the order their problems are reported. */
export const TIMING_FIELDS: readonly (keyof GuardTimings)[] = [
  'failOverIntervalSecs',
  'startupTimeoutSecs',
  'renewPeriodSecs',
  'queryTimeoutSecs',
  'renewDeadlineSecs',
  'stopTimeoutSecs',
];

/**
 * What one timing value must be on its own (a finite number of seconds > 0; L ≥ 5 s), as a
 * message, or undefined when it is fine. The config loader checks each key with it as it reads
 * the key (so a bad value is named once and not derived from); {@link timingProblems} applies it too.
 */
export function timingValueProblem(field: keyof GuardTimings, value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number of seconds';
  if (field === 'failOverIntervalSecs' && value < MIN_FAIL_OVER_INTERVAL_SECS) return `must be ≥ ${MIN_FAIL_OVER_INTERVAL_SECS}`;
  if (value <= 0) return 'must be > 0';
  return undefined;
}

/**
 * The design's timing rules, all of them: every guard that leases (config loader, `Elector`)
 * and the cluster spec check timings with this one function. Each problem names the field that
 * most directly fixes it.
 * - every timing a finite number of seconds > 0, L ≥ 5 s ({@link timingValueProblem}); when one
 *   is not, only those problems are reported;
 * - Q ≤ R and 1.1·R + 2Q ≤ D: a node gets at least one renew with retries inside its deadline,
 *   even when the jitter stretches a period.
 * - L − D − S ≥ max(2 s, L/10): a fenced node has stopped its app before the lease can expire for
 *   the others, with room for the watchdog to kill a stalled guard (see {@link watchdogSecs}).
 * - L − D ≥ (U − H + 1)·I + T (when the LB timings are known): the LB has marked the old node
 *   down before it can mark the new one up.
 */
export function timingProblems(t: GuardTimings, names: TimingNames, hc?: HealthCheckTimings): Problem[] {
  // Each value on its own first: the relations below mean nothing for a negative or missing one.
  const valueProblems = TIMING_FIELDS.flatMap((field) => {
    const message = timingValueProblem(field, t[field]);
    return message ? [{ path: names[field], message }] : [];
  });
  if (valueProblems.length > 0) return valueProblems;
  const problems: Problem[] = [];
  const { failOverIntervalSecs: L, renewPeriodSecs: R, queryTimeoutSecs: Q, renewDeadlineSecs: D, stopTimeoutSecs: S } = t;
  if (Q > R) {
    problems.push({ path: names.queryTimeoutSecs, message: `query timeout (${Q}s) must be ≤ the renew period (${R}s)` });
  }
  const longestPeriod = ms((1 + RENEW_JITTER) * R + 2 * Q);
  if (longestPeriod > D) {
    problems.push({
      path: names.renewDeadlineSecs,
      message: `renew deadline D (${D}s) must be ≥ 1.1 × ${names.renewPeriodSecs} (jitter) + 2 × ${names.queryTimeoutSecs} (${longestPeriod}s)`,
    });
  }
  const margin = minMarginSecs(L);
  if (ms(L - D - S) < margin) {
    problems.push({
      path: names.stopTimeoutSecs,
      message: `${names.failOverIntervalSecs} − ${names.renewDeadlineSecs} − ${names.stopTimeoutSecs} (${L}s − ${D}s − ${S}s = ${ms(L - D - S)}s) must be ≥ max(2s, L/10) = ${margin}s, so a fenced or stalled node has stopped its app before the lease moves`,
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
