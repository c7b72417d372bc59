import type { Problem } from '../core/problems';
import { APP_KEYS, HOOK_PHASES, hookKey } from '../spec/hook-settings';
import { hookSchema, type AppHook } from '../spec/profile';
import { databaseUrlProblem } from './database-url';

/** The app side of the guard config: hooks in run order and what they read. */
export interface AppHookConfig {
  readonly beforeStart: readonly AppHook[];
  readonly afterReady: readonly AppHook[];
  /** The app user's database (URL without password) and its password source. */
  readonly database?: { readonly url: string; readonly passwordSource: string };
  /** `{{network-address}}` in hook argv. */
  readonly networkAddress?: string;
}

/** Keys of this block that may also come from the environment (`FAILOVER_GUARD_APP_…`). */
export const APP_KEY_LIST: readonly string[] = Object.values(APP_KEYS);

/** True for every key this block reads (so the config loader does not call it unknown). */
export function isAppHookKey(key: string): boolean {
  return APP_KEY_LIST.includes(key) || hookKey(key) !== undefined;
}

const PASSWORD_SOURCE = /^(file:|env:|aws-secretsmanager:|azure-keyvault:https:\/\/)\S+$/;

/**
 * Reads the hook keys (from the file only: they are JSON, not meant for env overrides) and the
 * `app.*` keys (`raw`: file values already overridden by env). Every problem names its key.
 */
export function loadAppHookConfig(fileEntries: ReadonlyMap<string, string>, raw: ReadonlyMap<string, string>): { config: AppHookConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const phases: Record<keyof typeof HOOK_PHASES, Array<{ index: number; hook: AppHook }>> = { beforeStart: [], afterReady: [] };
  for (const [key, value] of fileEntries) {
    const at = hookKey(key);
    if (!at) continue;
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      problems.push({ path: key, message: 'must be one JSON object, e.g. {"kind":"command","name":"x","argv":["/bin/true"]}' });
      continue;
    }
    const r = hookSchema.safeParse(json);
    if (!r.success) {
      problems.push({ path: key, message: r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') });
      continue;
    }
    phases[at.phase].push({ index: at.index, hook: r.data });
  }
  const ordered = (list: Array<{ index: number; hook: AppHook }>) => list.sort((a, b) => a.index - b.index).map((e) => e.hook);
  const beforeStart = ordered(phases.beforeStart);
  const afterReady = ordered(phases.afterReady);
  const names = new Map<string, string>();
  for (const [phase, list] of [['before-start', beforeStart], ['after-ready', afterReady]] as const) {
    for (const h of list) {
      if (names.has(h.name)) problems.push({ path: `hook.${phase}`, message: `hook name "${h.name}" is used twice (also in ${names.get(h.name)})` });
      names.set(h.name, phase);
    }
  }

  const url = raw.get(APP_KEYS.databaseUrl);
  const source = raw.get(APP_KEYS.passwordSource);
  if (url !== undefined) {
    const problem = /:\/\/[^/@]*:[^/@]*@/.test(url) ? `must not contain a password; use ${APP_KEYS.passwordSource}` : databaseUrlProblem(url);
    if (problem) problems.push({ path: APP_KEYS.databaseUrl, message: problem });
    if (source === undefined) problems.push({ path: APP_KEYS.passwordSource, message: `is required when ${APP_KEYS.databaseUrl} is set` });
  }
  if (source !== undefined && !PASSWORD_SOURCE.test(source)) {
    problems.push({ path: APP_KEYS.passwordSource, message: 'must be file:PATH, env:NAME, aws-secretsmanager:ARN or azure-keyvault:https://…' });
  }
  const all = [...beforeStart, ...afterReady];
  if (url === undefined && all.some((h) => h.kind !== 'command')) {
    problems.push({ path: APP_KEYS.databaseUrl, message: 'is required: a hook uses the app database' });
  }
  const networkAddress = raw.get(APP_KEYS.networkAddress);
  if (networkAddress === undefined && all.some((h) => 'argv' in h && h.argv.some((a) => a.includes('{{network-address}}')))) {
    problems.push({ path: APP_KEYS.networkAddress, message: 'is required: a hook uses {{network-address}}' });
  }
  return {
    config: { beforeStart, afterReady, database: url !== undefined && source !== undefined ? { url, passwordSource: source } : undefined, networkAddress },
    problems,
  };
}
