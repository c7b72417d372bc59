import type { Problem } from '../../problems/problems';
import { APP_KEYS, HOOK_PHASES, hookKey, hookTimeoutProblems } from '../../contracts/hook-settings';
import { GUARD_KEYS } from '../../contracts/guard-settings';
import { secretReferenceProblem } from '../../contracts/secret-reference';
import type { AppHook } from '../../spec/profile';
import { databaseUrlProblem } from '../lease/database-url';

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

const HOOK_KINDS = ['command', 'app-database', 'papercut-database-properties', 'schema-init'] as const;
const DEFAULT_TIMEOUT_SECS: Record<AppHook['kind'], number> = { command: 60, 'app-database': 30, 'papercut-database-properties': 30, 'schema-init': 600 };

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * One hook's JSON checked the way `hookSchema` (lib/spec/profile.ts) checks it at synth, with
 * the same messages and output (defaults filled, unknown keys dropped), written out by hand
 * because zod would stay resident in the guard for its whole life (≈10 MB of its 64 MB budget).
 * test/guard/app/hook-config.test.ts holds the two to the same answers.
 */
export function parseHook(json: unknown): { hook: AppHook } | { issues: string[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { issues: [`Invalid input: expected object, received ${typeName(json)}`] };
  const o = json as Record<string, unknown>;
  const kind = o.kind as AppHook['kind'];
  if (!HOOK_KINDS.includes(kind)) return { issues: [`kind: Invalid discriminator value. Expected ${HOOK_KINDS.map((k) => `'${k}'`).join(' | ')}`] };
  const issues: string[] = [];
  const typed = (key: string, value: unknown, type: 'string' | 'number' | 'array'): boolean => {
    const actual = typeName(value);
    if (actual === type) return true;
    issues.push(`${key}: Invalid input: expected ${type}, received ${actual}`);
    return false;
  };
  const pattern = (key: string, value: unknown, re: RegExp, message: string): void => {
    if (typed(key, value, 'string') && !re.test(value as string)) issues.push(`${key}: ${message}`);
  };
  pattern('name', o.name, /^[a-z][a-z0-9-]{0,39}$/, 'must be lower-case letters, digits and dashes, ≤ 40 chars');
  const withArgv = kind === 'command' || kind === 'schema-init';
  if (withArgv && typed('argv', o.argv, 'array')) {
    const argv = o.argv as unknown[];
    argv.forEach((a, i) => {
      if (!typed(`argv.${i}`, a, 'string')) return;
      if ((a as string).length < 1) issues.push(`argv.${i}: must not be empty`);
      else if (/[\r\n\0]/.test(a as string)) issues.push(`argv.${i}: must be one line`);
    });
    if (argv.length < 1) issues.push('argv: must name a program');
  }
  if (kind === 'papercut-database-properties' && typed('file', o.file, 'string') && (o.file as string).length < 1) issues.push('file: must not be empty');
  const timeoutSecs = o.timeoutSecs === undefined ? DEFAULT_TIMEOUT_SECS[kind] : o.timeoutSecs;
  if (typed('timeoutSecs', timeoutSecs, 'number')) {
    if ((timeoutSecs as number) < 1) issues.push('timeoutSecs: must be ≥ 1 second');
    if ((timeoutSecs as number) > 3600) issues.push('timeoutSecs: must be ≤ 3600 seconds');
  }
  if (withArgv && o.user !== undefined) pattern('user', o.user, /^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Linux user name');
  if (issues.length > 0) return { issues };
  const name = o.name as string;
  const timeout = timeoutSecs as number;
  switch (kind) {
    case 'command':
    case 'schema-init':
      return { hook: { kind, name, argv: o.argv as string[], timeoutSecs: timeout, ...(o.user !== undefined ? { user: o.user as string } : {}) } };
    case 'app-database':
      return { hook: { kind, name, timeoutSecs: timeout } };
    case 'papercut-database-properties':
      return { hook: { kind, name, file: o.file as string, timeoutSecs: timeout } };
  }
}

/**
 * Reads the hook keys (from the file only: they are JSON, not meant for env overrides) and the
 * `app.*` keys (`raw`: file values already overridden by env). Every problem names its key;
 * hooks whose timeouts do not fit in `startupTimeoutSecs` name that key too.
 */
export function loadAppHookConfig(
  fileEntries: ReadonlyMap<string, string>,
  raw: ReadonlyMap<string, string>,
  startupTimeoutSecs?: number,
): { config: AppHookConfig; problems: Problem[] } {
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
    const r = parseHook(json);
    if ('issues' in r) {
      problems.push({ path: key, message: r.issues.join('; ') });
      continue;
    }
    phases[at.phase].push({ index: at.index, hook: r.hook });
  }
  for (const list of Object.values(phases)) list.sort((a, b) => a.index - b.index);
  const beforeStart = phases.beforeStart.map((e) => e.hook);
  const afterReady = phases.afterReady.map((e) => e.hook);
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
  const sourceProblem = source === undefined ? undefined : secretReferenceProblem(source, 'database-password');
  if (sourceProblem !== undefined) problems.push({ path: APP_KEYS.passwordSource, message: sourceProblem });
  if (startupTimeoutSecs !== undefined) {
    const hook = (phase: keyof typeof HOOK_PHASES, i: number) => `${HOOK_PHASES[phase]}.${phases[phase][i].index}`;
    problems.push(...hookTimeoutProblems({ beforeStart, afterReady }, startupTimeoutSecs, { startup: GUARD_KEYS.startupTimeoutSecs, hook }));
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
