/**
 * `database.url` (and `app.database.url`) → which lease store, the connection target and its
 * TLS. Pure, so the config check (`validate`, exit 2) and the stores read the URL the same way.
 */

export type DatabaseKind = 'postgres' | 'mysql';

/** `postgres://`/`postgresql://` → PostgreSQL, `mysql://`/`mariadb://` → MySQL/MariaDB. */
export function databaseKind(url: string): DatabaseKind | undefined {
  const scheme = /^([a-z]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  return undefined;
}

/**
 * TLS of a database connection, in libpq's words (MySQL's `ssl-mode` maps onto it):
 * `disable` clear text; `require` encrypted, the certificate not verified (libpq: verified
 * against the CA when one is named); `verify-ca` the certificate chains to the CA; `verify-full`
 * that, and it names the host. libpq's `allow`/`prefer` (and MySQL's PREFERRED) are refused:
 * they fall back to clear text without a word.
 */
export type SslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

/**
 * Where the CA to verify against comes from: `sslrootcert=` / `ssl-ca=` a PEM file, or a keyword:
 * `system` (Node's built-in roots), `rds` (the Amazon RDS CA bundle the guard carries), `azure`
 * (the roots Azure's flexible servers chain to). Unset: `rds` for an `*.rds.amazonaws.com` host,
 * `azure` for `*.database.azure.com`, else `system`.
 */
export type CaSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'system' | 'rds' | 'azure'; readonly auto: boolean };

export interface DatabaseTls {
  readonly mode: SslMode;
  /** What verifies the server; undefined for `disable` and for `require` without a named CA. */
  readonly ca?: CaSource;
  /** The URL's own names for the two settings, for messages (`sslmode`/`sslrootcert` or `ssl-mode`/`ssl-ca`). */
  readonly keys: { readonly mode: string; readonly ca: string };
  /** The mode as the URL spells it (or its default), for messages. */
  readonly modeText: string;
}

/** TLS as the MySQL client's `--ssl-mode` means it (PREFERRED is refused: no silent fallback). */
export type MysqlSslMode = 'DISABLED' | 'REQUIRED' | 'VERIFY_CA' | 'VERIFY_IDENTITY';

export interface DatabaseTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly tls: DatabaseTls;
}

export interface MysqlTarget extends DatabaseTarget {
  /** @default VERIFY_IDENTITY when the URL has no `ssl-mode` */
  readonly sslMode: MysqlSslMode;
  /** `ssl-ca=<file or keyword>` as written. @default - by host (see {@link CaSource}) */
  readonly sslCaFile?: string;
}

export type PostgresTarget = DatabaseTarget;

const MYSQL_MODES: Readonly<Record<MysqlSslMode, SslMode>> = { DISABLED: 'disable', REQUIRED: 'require', VERIFY_CA: 'verify-ca', VERIFY_IDENTITY: 'verify-full' };
const PG_MODES: readonly SslMode[] = ['disable', 'require', 'verify-ca', 'verify-full'];
const CA_KEYWORDS = ['system', 'rds', 'azure'] as const;

/** The CA a host's managed database chains to, when the host name tells. */
export function cloudCaForHost(host: string): 'rds' | 'azure' | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (/\.rds\.amazonaws\.com(\.cn)?$/.test(h)) return 'rds';
  if (/\.(postgres|mysql)\.database\.(azure\.com|chinacloudapi\.cn|usgovcloudapi\.net)$/.test(h)) return 'azure';
  return undefined;
}

function caSource(value: string | undefined, host: string): CaSource {
  if (value === undefined || value === '') return { kind: cloudCaForHost(host) ?? 'system', auto: true };
  if ((CA_KEYWORDS as readonly string[]).includes(value)) return { kind: value as (typeof CA_KEYWORDS)[number], auto: false };
  return { kind: 'file', path: value };
}

type Parsed<T> = { ok: true; target: T } | { ok: false; message: string };

function parseCommon(url: string, kind: DatabaseKind, example: string): { ok: true; u: URL; host: string; user: string; database: string } | { ok: false; message: string } {
  let u: URL;
  try {
    // WHATWG URL only parses the host of special schemes; the scheme does not matter here.
    u = new URL(url.replace(/^[a-z]+:/i, 'http:'));
  } catch {
    return { ok: false, message: 'is not a valid URL' };
  }
  if (databaseKind(url) !== kind) return { ok: false, message: kind === 'mysql' ? 'must start with mysql:// or mariadb://' : 'must start with postgres:// or postgresql://' };
  const user = decodeURIComponent(u.username);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!user) return { ok: false, message: `must name the user (${example})` };
  if (u.password) return { ok: false, message: 'must not contain a password; use database.password-source' };
  if (!database || database.includes('/')) return { ok: false, message: `must name the database (${example})` };
  return { ok: true, u, host: u.hostname.replace(/^\[|\]$/g, ''), user, database };
}

/**
 * `mysql://user@host[:3306]/db[?ssl-mode=VERIFY_IDENTITY&ssl-ca=/path]` → target, or the problem
 * with it (message only; the caller names the key).
 */
export function parseMysqlUrl(url: string): Parsed<MysqlTarget> {
  const c = parseCommon(url, 'mysql', 'mysql://user@host/db');
  if (!c.ok) return c;
  let sslMode: MysqlSslMode = 'VERIFY_IDENTITY';
  let modeText = 'VERIFY_IDENTITY (the default)';
  let sslCaFile: string | undefined;
  for (const [key, value] of c.u.searchParams) {
    if (key === 'ssl-mode' || key === 'sslmode') {
      const mode = value.toUpperCase() as MysqlSslMode;
      if (!(mode in MYSQL_MODES)) return { ok: false, message: `ssl-mode must be ${Object.keys(MYSQL_MODES).join(', ')} (got "${value}")` };
      sslMode = mode;
      modeText = mode;
    } else if (key === 'ssl-ca') {
      sslCaFile = value;
    } else {
      return { ok: false, message: `unknown parameter "${key}" (supported: ssl-mode, ssl-ca)` };
    }
  }
  if (sslCaFile !== undefined && sslMode !== 'VERIFY_CA' && sslMode !== 'VERIFY_IDENTITY') return { ok: false, message: 'ssl-ca needs ssl-mode=VERIFY_CA or VERIFY_IDENTITY' };
  const mode = MYSQL_MODES[sslMode];
  const tls: DatabaseTls = { mode, ca: mode === 'verify-ca' || mode === 'verify-full' ? caSource(sslCaFile, c.host) : undefined, keys: { mode: 'ssl-mode', ca: 'ssl-ca' }, modeText };
  return { ok: true, target: { host: c.host, port: c.u.port ? Number(c.u.port) : 3306, user: c.user, database: c.database, sslMode, sslCaFile, tls } };
}

/**
 * `postgres://user@host[:5432]/db[?sslmode=verify-full&sslrootcert=/path]` → target, or the
 * problem with it. libpq's meaning: `require` with a named CA verifies the chain (as verify-ca).
 */
export function parsePostgresUrl(url: string): Parsed<PostgresTarget> {
  const c = parseCommon(url, 'postgres', 'postgres://user@host/db');
  if (!c.ok) return c;
  let mode: SslMode = 'verify-full';
  let modeText = 'verify-full (the default)';
  let root: string | undefined;
  for (const [key, value] of c.u.searchParams) {
    if (key === 'sslmode') {
      if (!(PG_MODES as readonly string[]).includes(value)) {
        const why = value === 'prefer' || value === 'allow' ? ': it falls back to clear text silently; use require or verify-full' : '';
        return { ok: false, message: `sslmode must be ${PG_MODES.join(', ')} (got "${value}")${why}` };
      }
      mode = value as SslMode;
      modeText = value;
    } else if (key === 'sslrootcert') {
      root = value;
    } else {
      return { ok: false, message: `unknown parameter "${key}" (supported: sslmode, sslrootcert)` };
    }
  }
  if (root !== undefined && mode === 'disable') return { ok: false, message: `sslrootcert needs an sslmode that encrypts (${PG_MODES.filter((m) => m !== 'disable').join(', ')})` };
  const verifies = mode === 'verify-ca' || mode === 'verify-full' || root !== undefined;
  const tls: DatabaseTls = {
    mode: mode === 'require' && root !== undefined ? 'verify-ca' : mode,
    ca: verifies ? caSource(root, c.host) : undefined,
    keys: { mode: 'sslmode', ca: 'sslrootcert' },
    modeText,
  };
  return { ok: true, target: { host: c.host, port: c.u.port ? Number(c.u.port) : 5432, user: c.user, database: c.database, tls } };
}

/** Either engine's target (the URL's scheme decides). */
export function parseDatabaseUrl(url: string): Parsed<PostgresTarget | MysqlTarget> {
  const kind = databaseKind(url);
  if (!kind) return { ok: false, message: 'must start with postgres://, postgresql://, mysql:// or mariadb://' };
  return kind === 'mysql' ? parseMysqlUrl(url) : parsePostgresUrl(url);
}

/** Problem with a `database.url` value, for the config check; undefined when usable. */
export function databaseUrlProblem(url: string): string | undefined {
  const r = parseDatabaseUrl(url);
  return r.ok ? undefined : r.message;
}
