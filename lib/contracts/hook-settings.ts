import type { GuardDatabaseSettings } from './guard-settings';
import type { Problem } from '../problems/problems';
import { DEFAULT_STARTUP_TIMEOUT_SECS } from './timing';
import { urlHasPassword } from './database-url';

/**
 * Guard config keys for the app's own configuration (the profile's hooks). Hooks are numbered
 * keys, one JSON object each (`hook.before-start.1={"kind":"app-database",…}`), run in number order.
 */
export const APP_KEYS = {
  databaseUrl: 'app.database.url',
  passwordSource: 'app.database.password-source',
  networkAddress: 'app.network-address',
} as const;

export const HOOK_PHASES = { beforeStart: 'hook.before-start', afterReady: 'hook.after-ready' } as const;

/** `hook.before-start.3` → phase and position; anything else → undefined. */
export function hookKey(key: string): { phase: keyof typeof HOOK_PHASES; index: number } | undefined {
  const m = /^hook\.(before-start|after-ready)\.([1-9]\d{0,2})$/.exec(key);
  if (!m) return undefined;
  return { phase: m[1] === 'before-start' ? 'beforeStart' : 'afterReady', index: Number(m[2]) };
}

/**
 * A hook as the guard config carries it: one JSON object (a profile's hook, `AppHook`, which the
 * guard parses back in lib/guard/hook-config.ts). Only what this module reads is named here.
 */
export interface HookEntry {
  readonly kind: string;
  readonly timeoutSecs: number;
  readonly argv?: readonly string[];
}

/** The hooks as the guard config lists them: phase and 1-based position name each one. */
export interface HookList {
  readonly beforeStart: readonly HookEntry[];
  readonly afterReady: readonly HookEntry[];
}

/** What the hook settings are made of: a resolved ClusterSpec's profile hooks (a ClusterSpec is one). */
export interface HookSettingsSource {
  readonly profile: { readonly hooks?: HookList };
}

function hookTimeouts(hooks: HookList | undefined): Array<{ phase: keyof typeof HOOK_PHASES; index: number; secs: number }> {
  if (!hooks) return [];
  return (['beforeStart', 'afterReady'] as const).flatMap((phase) => hooks[phase].map((h, i) => ({ phase, index: i, secs: h.timeoutSecs })));
}

/**
 * The startup timeout when none is given: PaperCut's documented 300 s for the app's own start,
 * plus every hook's timeout, since the hooks run inside it (before the start and until ready).
 * A profile without hooks keeps 300 s; PaperCut's hooks (30 + 30 + 600 + 60 s) make it 1020 s.
 */
export function defaultStartupTimeoutSecs(hooks: HookList | undefined): number {
  return DEFAULT_STARTUP_TIMEOUT_SECS + hookTimeouts(hooks).reduce((sum, h) => sum + h.secs, 0);
}

/**
 * The hooks run inside the startup timeout, which must also cover the app's own start: their
 * timeouts together must be less than it, or one would be cut short silently. One problem under
 * `names.startup` that names the hooks' own keys (`names.hook`), or none.
 */
export function hookTimeoutProblems(
  hooks: HookList | undefined,
  startupTimeoutSecs: number,
  names: { readonly startup: string; hook(phase: keyof typeof HOOK_PHASES, index: number): string },
): Problem[] {
  const all = hookTimeouts(hooks);
  const total = all.reduce((sum, h) => sum + h.secs, 0);
  if (all.length === 0 || total < startupTimeoutSecs) return [];
  const parts = all.map((h) => `${names.hook(h.phase, h.index)} ${h.secs}`).join(' + ');
  return [
    {
      path: names.startup,
      message: `(${startupTimeoutSecs} s) must be more than the hooks' timeouts together (${parts} = ${total} s): it covers the hooks and the app's own start; raise it or lower those timeouts`,
    },
  ];
}

/** What only the cloud construct knows about the app's side: its database and the load balancer's name. */
export interface AppSettings {
  /** The app user's URL (no password, TLS required) and its secret. @default - no app database */
  readonly database?: GuardDatabaseSettings;
  /** DNS name of the load balancer (PaperCut's `system.network-address`). @default - none */
  readonly networkAddress?: string;
}

/** Problems with hooks a cluster cannot run (a hook that needs a value the construct did not give). */
export function hookSettingProblems(spec: HookSettingsSource, app: AppSettings | undefined): Array<{ path: string; message: string }> {
  const hooks = spec.profile.hooks;
  if (!hooks) return [];
  const all = [...hooks.beforeStart, ...hooks.afterReady];
  const problems: Array<{ path: string; message: string }> = [];
  const needsDb = all.some((h) => h.kind === 'app-database' || h.kind === 'papercut-database-properties' || h.kind === 'schema-init');
  if (needsDb && !app?.database) problems.push({ path: 'app.database', message: 'is required: the profile has hooks that use the app database' });
  const needsAddress = all.some((h) => (h.kind === 'command' || h.kind === 'schema-init') && (h.argv ?? []).some((a) => a.includes('{{network-address}}')));
  if (needsAddress && !app?.networkAddress) problems.push({ path: 'app.networkAddress', message: 'is required: a hook uses {{network-address}}' });
  return problems;
}

/** The guard config entries for the profile's hooks and the app settings (ordered). */
export function hookSettings(spec: HookSettingsSource, app: AppSettings | undefined): Array<[string, string]> {
  const hooks = spec.profile.hooks;
  const entries: Array<[string, string]> = [];
  // the app settings only matter to hooks: a profile without any gets none of these keys
  if (!hooks || hooks.beforeStart.length + hooks.afterReady.length === 0) return entries;
  if (app?.database) {
    if (urlHasPassword(app.database.url)) throw new Error(`${APP_KEYS.databaseUrl} must not contain a password; use ${APP_KEYS.passwordSource}`);
    entries.push([APP_KEYS.databaseUrl, app.database.url], [APP_KEYS.passwordSource, app.database.passwordSource]);
  }
  if (app?.networkAddress) entries.push([APP_KEYS.networkAddress, app.networkAddress]);
  const add = (prefix: string, list: readonly HookEntry[]) => list.forEach((h, i) => entries.push([`${prefix}.${i + 1}`, JSON.stringify(h)]));
  add(HOOK_PHASES.beforeStart, hooks.beforeStart);
  add(HOOK_PHASES.afterReady, hooks.afterReady);
  return entries;
}
