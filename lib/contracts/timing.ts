import type { Problem } from '../problems/problems';

/**
 * Guard timings, all in seconds. Letters follow the design: L lease TTL, R renew period,
 * Q query timeout, D local renew deadline (monotonic), S service stop timeout. The defaults are
 * {@link deriveGuardTimings}'s, the rules between them {@link timingProblems}'s.
 */
export interface GuardTimings {
  /** L: lease TTL in database time; a passive node takes over this long after the last renew. */
  readonly failOverIntervalSecs: number;
  /** After winning the lease the app must be ready within this time (hooks included), else release + back off. */
  readonly startupTimeoutSecs: number;
  /** R: how often the active node renews and passive nodes poll. */
  readonly renewPeriodSecs: number;
  /** Q: timeout of one lease statement (≤ R). */
  readonly queryTimeoutSecs: number;
  /** D: counted on the monotonic clock from the send of the last successful renew; past it the node fences itself ({@link leaseDeadlines}). */
  readonly renewDeadlineSecs: number;
  /** S: cap of a planned, graceful stop (SIGTERM, ExecStop or service stop, then a kill); a fence kills at once and never waits for it. */
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

/** How the guard runs the app: it decides how long a kill takes to be confirmed (K). */
export type ServiceMode = 'exec' | 'systemd' | 'windows-service';

/**
 * K: seconds from a fence until the app is confirmed gone, per mode (exec: SIGKILL to the
 * process group, then the group empty; systemd: the unit's cgroup killed, then `populated 0`;
 * windows-service: `taskkill /F /T`, then the tree gone). These are conservative upper bounds
 * set before the kill paths were measured; the kill benchmark's figures (docs/figures.md) must
 * stay below them, and a lower measured bound may replace them.
 */
export const KILL_CONFIRM_SECS: Readonly<Record<ServiceMode, number>> = { exec: 1, systemd: 3, 'windows-service': 5 };

/** The mode the constructs run a profile's app in: its OS's service manager. */
export function serviceModeFor(os: 'linux' | 'windows'): ServiceMode {
  return os === 'windows' ? 'windows-service' : 'systemd';
}

/**
 * M, the clock margin: max(2 s, L/10). It covers clock-rate drift between the database and the
 * node over one lease, timer slack, and is the largest wall/monotonic divergence the guard
 * tolerates (more, and it kills at once: a stepped clock or a paused VM).
 */
export function clockMarginSecs(failOverIntervalSecs: number): number {
  return ms(Math.max(2, failOverIntervalSecs / 10));
}

/**
 * Room left for the systemd watchdog W when D is derived in systemd mode: a guard that stalls
 * just before D is killed by systemd W after its last ping, then its app within K, so
 * D + W + K ≤ L − M; 2 s of room gives W = 1.5 s (see {@link watchdogSecs}). The other modes'
 * backstops act at absolute instants (exec: the valid-until), so they need no room.
 */
const WATCHDOG_ROOM_SECS = 2;

/**
 * The stop timeout S when not set: the cap of a planned, graceful stop (drain done, lease still
 * renewed). A fence never waits for it (a fence kills), so it is not bounded by L; an app server
 * that flushes its state on SIGTERM needs tens of seconds.
 */
export const DEFAULT_STOP_TIMEOUT_SECS = 30;

/**
 * systemd's `WatchdogSec=` W for the guard unit: ¾ of L − D − K − M (at least 0.5 s, at most
 * 30 s). A guard that stalls just before its deadline D is killed W after its last ping and its
 * app K after that: D + W + K ≤ L − M. `mode` is the app's service mode (its K).
 */
export function watchdogSecs(t: GuardTimings, mode: ServiceMode = 'systemd'): number {
  const room = t.failOverIntervalSecs - t.renewDeadlineSecs - KILL_CONFIRM_SECS[mode] - clockMarginSecs(t.failOverIntervalSecs);
  return ms(Math.max(0.5, Math.min(30, room * 0.75)));
}

/**
 * Exec mode's heartbeat watchdog: it SIGKILLs the app's group itself once the heartbeat is older
 * than W' = L − D − K − M/2 (at most 60 s, never shorter than W): a guard that stalled just
 * before D has its app gone by D + W' + K = L − M/2.
 */
export function execWatchdogSecs(t: GuardTimings): number {
  const L = t.failOverIntervalSecs;
  const bound = L - t.renewDeadlineSecs - KILL_CONFIRM_SECS.exec - clockMarginSecs(L) / 2;
  return ms(Math.max(watchdogSecs(t, 'exec'), Math.min(60, bound)));
}

/**
 * The absolute instants (monotonic ms, as performance.now()) one successful renew proves, both
 * counted from that renew's send (the database may have set the expiry any time after it):
 * - `fenceAt` = send + D: no later renew succeeded by then → fence: kill at once. It is also the
 *   valid-until handed to the backstop outside the guard's event loop (the exec watchdog), which
 *   kills then whatever the guard does;
 * - `killBy` = send + L − M: the app must be confirmed gone by then, the deadline every kill of
 *   this leadership gets (the lease can move at send + L in database time; M covers drift
 *   between the two clocks). L − D ≥ K + M leaves every mode its K between the two.
 */
export interface LeaseDeadlines {
  readonly fenceAt: number;
  readonly killBy: number;
}

export function leaseDeadlines(renewSendMs: number, t: Pick<GuardTimings, 'failOverIntervalSecs' | 'renewDeadlineSecs'>): LeaseDeadlines {
  const L = t.failOverIntervalSecs;
  return { fenceAt: renewSendMs + t.renewDeadlineSecs * 1000, killBy: renewSendMs + (L - clockMarginSecs(L)) * 1000 };
}

/**
 * Derives the timings a user did not set from L (and the service mode's K), so that every
 * default combination satisfies the invariants:
 * - R = max(1, L/10): ten renew chances per lease; at least 1 s so the DB sees ≤ 1 statement/s/node.
 * - Q = 0.4·R: a hung statement is abandoned in time for a retry inside D even with jitter.
 * - D = max(1.1·R + 2Q, min(L/2, L − K − M − room)): half the lease is the fencing budget, less
 *   where the kill (K), the clock margin (M) and, in systemd mode, 2 s for its watchdog need more.
 * - S = 30 s ({@link DEFAULT_STOP_TIMEOUT_SECS}): planned stops only.
 * With L = 30: R 3, Q 1.2, D 15 in every mode. With L = 10: R 1, Q 0.4, D 5 (exec), 3 (systemd,
 * W 1.5 s; windows-service). With L = 6, exec: D 3 (the drill/test setting).
 */
export function deriveGuardTimings(input: GuardTimingsInput, mode: ServiceMode = 'exec'): GuardTimings {
  const L = input.failOverIntervalSecs;
  const R = input.renewPeriodSecs ?? ms(Math.max(1, L / 10));
  const Q = input.queryTimeoutSecs ?? ms(R * 0.4);
  const room = L - KILL_CONFIRM_SECS[mode] - clockMarginSecs(L) - (mode === 'systemd' ? WATCHDOG_ROOM_SECS : 0);
  const D = input.renewDeadlineSecs ?? ms(Math.max((1 + RENEW_JITTER) * R + 2 * Q, Math.min(L / 2, room)));
  return {
    failOverIntervalSecs: L,
    startupTimeoutSecs: input.startupTimeoutSecs ?? DEFAULT_STARTUP_TIMEOUT_SECS,
    renewPeriodSecs: R,
    queryTimeoutSecs: Q,
    renewDeadlineSecs: D,
    stopTimeoutSecs: input.stopTimeoutSecs ?? DEFAULT_STOP_TIMEOUT_SECS,
  };
}

/** Guard and health-check timings that go together: spread into a ClusterSpec input. */
export interface TimingPreset {
  readonly guard: GuardTimingsInput;
  readonly healthCheck: HealthCheckTimings;
}

/**
 * The `fast` preset (AWS, any mode): L = 10 s, D = 3 s (R 1, Q 0.4 derived), NLB checks every 5 s
 * with a 2 s timeout, thresholds 2/2 — the shortest NLB check, so L − D = 7 s covers both
 * (U − H + 1)·I + T = 7 s and K + M (≤ 5 + 2 s). A crash fails over in about 10 s instead of
 * 30 s. It costs one renew statement per node per second (three times the default's rate),
 * statements slower than Q = 0.4 s count as failed (1.2 s at L = 30), and a database that stalls
 * for about D = 3 s (15 s at L = 30) fences the active node: a latency spike or a database
 * failover longer than that costs an app restart on some node. See docs/failover.md#timing.
 */
export const FAST_PRESET: TimingPreset = {
  guard: { failOverIntervalSecs: 10, renewDeadlineSecs: 3 },
  healthCheck: { intervalSecs: 5, timeoutSecs: 2, healthyThreshold: 2, unhealthyThreshold: 2 },
};

/**
 * The `fast` preset on Azure: the probe runs at least every 5 s, admits a node after one good
 * probe and times out after the interval, so L − D ≥ (U + 1)·I ≥ 10 s: L = 13 s, D = 3 s, and one
 * failed probe (U = 1) takes the active node out of rotation for a probe interval. Costs as
 * {@link FAST_PRESET} (R 1.3 s: 0.77 renews per node per second).
 */
export const FAST_PRESET_AZURE: TimingPreset = {
  guard: { failOverIntervalSecs: 13, renewDeadlineSecs: 3 },
  healthCheck: { intervalSecs: 5, timeoutSecs: 2, healthyThreshold: 2, unhealthyThreshold: 1 },
};

/**
 * Drain time on a graceful release: /health answers 503 for U·I + T so the load balancer has
 * marked the node down before the app stops.
 */
export function drainSecs(hc: HealthCheckTimings): number {
  return ms(hc.unhealthyThreshold * hc.intervalSecs + hc.timeoutSecs);
}

/** Names under which each timing is reported: spec paths or guard config keys. */
export type TimingNames = Record<keyof GuardTimings, string> & {
  readonly healthCheck: string;
  /** Where the service mode (hence K) is set: `service.mode`, `profile.os`. @default - not named */
  readonly serviceMode?: string;
};

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
 * - L − D ≥ K + M (K the kill-confirm bound of `mode`, M the clock margin): a fenced node's app
 *   is confirmed gone before the lease can move (the stop timeout S is not part of it: a fence
 *   kills, only planned handovers stop gracefully, while the lease is still renewed).
 * - L − D ≥ (U − H + 1)·I + T (when the LB timings are known): the LB has marked the old node
 *   down before it can mark the new one up.
 */
export function timingProblems(t: GuardTimings, names: TimingNames, hc?: HealthCheckTimings, mode: ServiceMode = 'exec'): Problem[] {
  // Each value on its own first: the relations below mean nothing for a negative or missing one.
  const valueProblems = TIMING_FIELDS.flatMap((field) => {
    const message = timingValueProblem(field, t[field]);
    return message ? [{ path: names[field], message }] : [];
  });
  if (valueProblems.length > 0) return valueProblems;
  const problems: Problem[] = [];
  const { failOverIntervalSecs: L, renewPeriodSecs: R, queryTimeoutSecs: Q, renewDeadlineSecs: D } = t;
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
  const K = KILL_CONFIRM_SECS[mode];
  const M = clockMarginSecs(L);
  if (ms(L - D) < ms(K + M)) {
    const modeName = names.serviceMode ? `${mode} mode, set by ${names.serviceMode}` : `${mode} mode`;
    problems.push({
      path: names.renewDeadlineSecs,
      message: `${names.failOverIntervalSecs} − ${names.renewDeadlineSecs} (${L}s − ${D}s = ${ms(L - D)}s) must be ≥ K + M = ${K}s + ${M}s = ${ms(K + M)}s (K: kill-confirm bound of ${modeName}; M: clock margin max(2s, L/10)), so a fenced node's app is confirmed gone before the lease moves`,
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

// ---------------------------------------------------------------------------------------------
// The guard's fixed timing constants: budgets, poll periods and margins the daemon uses at run
// time beside the derived timings above. Each names where it is used instead of restating it.
// ---------------------------------------------------------------------------------------------

/** How often the elector probes readiness while the app starts (its renew loop's short tick). */
export const READY_PROBE_MS = 250;

/** A passive poll timed for the lease's expiry comes this much after it (statement latency, timer slack). */
export const EXPIRY_MARGIN_MS = 50;

/** First retry after a failed poll; the elector doubles it per failure, capped at R. */
export const POLL_RETRY_MIN_MS = 125;

/**
 * How long before a planned stop's deadline the graceful stop turns into a kill, in every
 * supervisor (`killReserveMs` defaults to it): room for the kill to be confirmed (K).
 */
export const KILL_RESERVE_MS = 1000;

/** How often a stopping service (systemd, windows-service) is asked for its state. */
export const STOP_POLL_MS = 200;

/** How often a killed service is asked whether it is gone (each check is one manager call). */
export const KILL_POLL_MS = 20;

/** How often a killed process group (exec mode) is checked for members left. */
export const GROUP_POLL_MS = 10;

/** How often (at most) exec mode's watchdog shell looks at the guard and its heartbeat, in centiseconds. */
export const WATCHDOG_TICK_CS = 20;

/** Timeout of one call to the OS service manager (systemctl, sc.exe, taskkill), shortened to a caller's deadline. */
export const SERVICE_COMMAND_TIMEOUT_MS = 5000;

/** How many times its wait a database connect may go on in the background before it is abandoned (see `connectBounds`). */
export const BACKGROUND_CONNECT_FACTOR = 5;

/** Seconds WinSW waits for the guard after Ctrl+C beyond drain + app stop: the lease release and a margin. */
export const RELEASE_MARGIN_SECS = 15;

// ---- Replacement handover (the boot scripts' lifecycle watcher and the clouds' hold on a node) ----

/** Seconds an active node being replaced waits before its step-down, so passive nodes replaced in the same batch leave first and the lease goes to a new node. */
export const PASSIVE_LEAVE_SECS = 15;

/**
 * Seconds a node being replaced needs from the cloud's notice until it may go: the passive nodes'
 * head start, the drain, the app's stop, and a minute for the step-down and the call that lets the
 * node go. Each cloud rounds it to what its hold takes (AWS: a lifecycle hook's heartbeat in
 * seconds; Azure: a termination notification in minutes).
 */
export function handoverBudgetSecs(guard: { readonly drainSecs: number; readonly stopTimeoutSecs: number }): number {
  return guard.drainSecs + guard.stopTimeoutSecs + PASSIVE_LEAVE_SECS + 60;
}
