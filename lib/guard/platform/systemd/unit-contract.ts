import { watchdogSecs, type GuardTimings } from '../../../contracts/timing';
import { GUARD_PROCESS_ENV } from './process-env';
import { DEFAULT_ENV_DIR, unitEnvFile } from './systemd-control';

/**
 * What the systemd units must say for the guard's systemd mode to be safe (the renderer in
 * lib/boot writes the files; this is the guard's side of the contract, as `[key, value]` lines):
 * - guard unit: `Type=notify` + `NotifyAccess=main` (READY=1 and WATCHDOG=1 come from the guard's
 *   pid, see sd-notify.ts), `WatchdogSec=` = W so a stalled guard is killed — and its app with it
 *   through the unit relations — before the lease can move (W from {@link watchdogSecs}), and the process env;
 * - app drop-in: `EnvironmentFile=` the per-start file the guard writes 0600 before every start
 *   (no `-`: without it the app cannot start, so it never starts without a guard-issued term),
 *   `TimeoutStopSec=` = S, the guard's stop timeout, and `TimeoutStopFailureMode=kill`: when a
 *   vendor `ExecStop=` runs out of S, systemd kills at once instead of a second S of SIGTERM
 *   (systemd's own stops, e.g. the guard unit's `ExecStopPost=`, take at most S; the guard's stop
 *   kills the cgroup itself at its deadline).
 */
export function guardUnitSettings(t: GuardTimings): Array<[string, string]> {
  return [
    ['Type', 'notify'],
    ['NotifyAccess', 'main'],
    ['WatchdogSec', `${Math.round(watchdogSecs(t) * 1000)}ms`],
    ...Object.entries(GUARD_PROCESS_ENV).map(([k, v]): [string, string] => ['Environment', `${k}=${v}`]),
  ];
}

export function appDropInSettings(unit: string, t: GuardTimings, envDir = DEFAULT_ENV_DIR): Array<[string, string]> {
  return [
    ['EnvironmentFile', unitEnvFile(unit, envDir)],
    ['TimeoutStopSec', `${Math.round(t.stopTimeoutSecs * 1000)}ms`],
    ['TimeoutStopFailureMode', 'kill'],
  ];
}
