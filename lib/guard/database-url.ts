/**
 * `database.url` → which lease store, and for MySQL/MariaDB the connection target. Pure, so the
 * config check (`validate`, exit 2) and the store factory read the URL the same way.
 */

export type DatabaseKind = 'postgres' | 'mysql';

/** `postgres://`/`postgresql://` → PostgreSQL, `mysql://`/`mariadb://` → MySQL/MariaDB. */
export function databaseKind(url: string): DatabaseKind | undefined {
  const scheme = /^([a-z]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  return undefined;
}

/** TLS as the MySQL client's `--ssl-mode` means it (PREFERRED is refused: no silent fallback). */
export type MysqlSslMode = 'DISABLED' | 'REQUIRED' | 'VERIFY_CA' | 'VERIFY_IDENTITY';

export interface MysqlTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** @default DISABLED when the URL has no `ssl-mode` */
  readonly sslMode: MysqlSslMode;
  /** `ssl-ca=<file>`: PEM bundle to verify the server with. @default - Node's CA store */
  readonly sslCaFile?: string;
}

const SSL_MODES: readonly MysqlSslMode[] = ['DISABLED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'];

/**
 * `mysql://user@host[:3306]/db[?ssl-mode=REQUIRED&ssl-ca=/path]` → target, or the problem with
 * it (message only; the caller names the key).
 */
export function parseMysqlUrl(url: string): { ok: true; target: MysqlTarget } | { ok: false; message: string } {
  let u: URL;
  try {
    // WHATWG URL only parses the host of special schemes; the scheme does not matter here.
    u = new URL(url.replace(/^[a-z]+:/i, 'http:'));
  } catch {
    return { ok: false, message: 'is not a valid URL' };
  }
  if (databaseKind(url) !== 'mysql') return { ok: false, message: 'must start with mysql:// or mariadb://' };
  const user = decodeURIComponent(u.username);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!user) return { ok: false, message: 'must name the user (mysql://user@host/db)' };
  if (u.password) return { ok: false, message: 'must not contain a password; use database.password-source' };
  if (!database || database.includes('/')) return { ok: false, message: 'must name the database (mysql://user@host/db)' };
  let sslMode: MysqlSslMode = 'DISABLED';
  let sslCaFile: string | undefined;
  for (const [key, value] of u.searchParams) {
    if (key === 'ssl-mode' || key === 'sslmode') {
      const mode = value.toUpperCase() as MysqlSslMode;
      if (!SSL_MODES.includes(mode)) return { ok: false, message: `ssl-mode must be ${SSL_MODES.join(', ')} (got "${value}")` };
      sslMode = mode;
    } else if (key === 'ssl-ca') {
      sslCaFile = value;
    } else {
      return { ok: false, message: `unknown parameter "${key}" (supported: ssl-mode, ssl-ca)` };
    }
  }
  if (sslCaFile && sslMode !== 'VERIFY_CA' && sslMode !== 'VERIFY_IDENTITY') return { ok: false, message: 'ssl-ca needs ssl-mode=VERIFY_CA or VERIFY_IDENTITY' };
  return { ok: true, target: { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 3306, user, database, sslMode, sslCaFile } };
}

/** Problem with a `database.url` value, for the config check; undefined when usable. */
export function databaseUrlProblem(url: string): string | undefined {
  const kind = databaseKind(url);
  if (!kind) return 'must start with postgres://, postgresql://, mysql:// or mariadb://';
  if (kind === 'mysql') {
    const r = parseMysqlUrl(url);
    if (!r.ok) return r.message;
  }
  return undefined;
}
