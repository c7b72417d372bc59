import { ensureAppDatabase } from './app-database';
import type { GuardConfig } from '../config';
import { defaultPasswordDeps, resolvePassword, type PasswordDeps } from '../lease/password';
import { APP_KEYS } from '../../contracts/hook-settings';

/**
 * `failover-guard init-db`'s app step: the app user and database from `app.database.url`,
 * made with the guard's (master) credentials; the same function the `app-database` hook runs
 * before every start. Returns what changed, for the operator.
 */
export async function initAppDatabase(config: GuardConfig, deps: PasswordDeps = defaultPasswordDeps()): Promise<string> {
  const app = config.app?.database;
  if (!app || !config.databaseUrl) return 'not configured';
  const application = `failover-guard ${config.nodeId} init-db`;
  const changes = await ensureAppDatabase({
    master: { url: config.databaseUrl, password: await resolvePassword(config.passwordSource, deps), application },
    app: { url: app.url, password: await resolvePassword(app.passwordSource, deps, APP_KEYS.passwordSource), application },
  });
  return changes.length ? changes.join(', ') : 'already up to date';
}
