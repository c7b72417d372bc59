/**
 * What the guard (systemd mode, lib/guard/service-supervisor.ts) and the boot script's units
 * agree on. The guard writes the term for each start into {@link termEnvFile} before
 * `systemctl start` and removes it once the app stopped; the app unit reads it through
 * `EnvironmentFile=`, so a start that did not come from the guard finds no file and fails
 * instead of running with a stale term.
 */
export const TERM_ENV_DIR = '/run/failover-guard';

/** `/run/failover-guard/<unit>.env`: the per-start environment of `unit`. */
export function termEnvFile(unit: string): string {
  return `${TERM_ENV_DIR}/${unit}.env`;
}
