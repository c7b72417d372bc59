import { GUARD_KEYS } from './guard-settings';
import type { GuardTimings, TimingNames } from './timing';

/**
 * The names timing problems are reported under (see timingProblems): a spec path where the
 * user wrote a ClusterSpec, a config key where they wrote the guard's properties file.
 */

const TIMINGS = ['failOverIntervalSecs', 'startupTimeoutSecs', 'renewPeriodSecs', 'queryTimeoutSecs', 'renewDeadlineSecs', 'stopTimeoutSecs'] as const satisfies ReadonlyArray<keyof GuardTimings>;

/**
 * `guard.<timing>` and `healthCheck`, the ClusterSpec paths; with prefix `spec.` the paths of a
 * construct's `spec` prop.
 */
export function specTimingPaths(prefix: '' | 'spec.' = ''): TimingNames {
  const names = Object.fromEntries(TIMINGS.map((k) => [k, `${prefix}guard.${k}`])) as Record<keyof GuardTimings, string>;
  return { ...names, healthCheck: `${prefix}healthCheck`, serviceMode: `${prefix}profile.os` };
}

/** The guard config keys that fix each timing; the load balancer's side is `load-balancer.*`. */
export const TIMING_KEY_NAMES: TimingNames = {
  ...(Object.fromEntries(TIMINGS.map((k) => [k, GUARD_KEYS[k]])) as Record<keyof GuardTimings, string>),
  healthCheck: GUARD_KEYS.lbIntervalSecs,
  serviceMode: GUARD_KEYS.serviceMode,
};
