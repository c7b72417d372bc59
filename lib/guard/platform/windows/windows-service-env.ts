import { runCommand, type RunCommand } from '../../app/run-command';

/** The registry key of a Windows service; its `Environment` value (REG_MULTI_SZ) is the service's extra environment. */
export const serviceKey = (name: string): string => `HKLM\\SYSTEM\\CurrentControlSet\\Services\\${name}`;

/** Entries the guard owns in a service's environment; every other entry is the admin's and is kept. */
const OWNED = /^FAILOVER_GUARD_[A-Z0-9_]*=/i;

/** The `Environment` entries from `reg query <key> /v Environment` output (reg prints the separators as `\0`). */
export function parseEnvironmentValue(regQueryOutput: string): string[] {
  const m = /^\s*Environment\s+REG_MULTI_SZ\s+(.*)$/m.exec(regQueryOutput);
  if (!m) return [];
  return m[1]
    .replace(/\r$/, '')
    .split('\\0')
    .filter((e) => e !== '');
}

/** The new entries: the admin's kept, the guard's replaced by `env` (sorted, so the value is stable). */
export function mergeEnvironment(existing: readonly string[], env: Readonly<Record<string, string>>): string[] {
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /[\0\r\n]|\\0/.test(v)) throw new Error(`service environment: ${k} cannot be written as a REG_MULTI_SZ entry`);
  }
  const kept = existing.filter((e) => !OWNED.test(e));
  const ours = Object.entries(env)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  return [...kept, ...ours];
}

/**
 * Sets the service's environment before each start, so the app started by the SCM gets this
 * term (the SCM reads the value at every start; the windows-service mode has no other way to
 * pass it). Throws when reg.exe fails: an app started without its term must not start.
 */
export async function setServiceEnvironment(name: string, env: Readonly<Record<string, string>>, run: RunCommand = runCommand): Promise<void> {
  const key = serviceKey(name);
  const current = await run(['reg.exe', 'query', key, '/v', 'Environment'], { timeoutMs: 30000 });
  const entries = mergeEnvironment(current.code === 0 ? parseEnvironmentValue(current.stdout) : [], env);
  const r = await run(['reg.exe', 'add', key, '/v', 'Environment', '/t', 'REG_MULTI_SZ', '/d', entries.join('\\0'), '/f'], { timeoutMs: 30000 });
  if (r.code !== 0) throw new Error(`reg.exe add ${key} /v Environment failed (exit ${r.code})`);
}
