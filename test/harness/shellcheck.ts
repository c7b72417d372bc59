import { spawnSync } from 'child_process';

/** Debian's shellcheck (scripts/test-deps.sh installs it). */
export const SHELLCHECK = '/usr/bin/shellcheck';

/** shellcheck at warning level on a bash script; `output` is empty when it is clean. */
export function shellcheck(script: string): { status: number | null; output: string } {
  const r = spawnSync(SHELLCHECK, ['-S', 'warning', '-s', 'bash', '-'], { input: script, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
