import { promises as fs } from 'fs';
import { basename, dirname, join } from 'path';
import { rootCertificates } from 'tls';
import { loadCa } from '../lease/database-tls';
import { databaseKind, parseDatabaseUrl, type DatabaseTls, type MysqlTarget } from '../lease/database-url';

/**
 * Writing the app's own config files from secrets read at start time: PaperCut's `database.*`
 * keys in its (shared) server.properties.
 */

/** Java properties value escaping: `\`, line breaks, a leading space and non-ASCII characters. */
export function escapePropertyValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\f') out += '\\f';
    else if (code < 0x20 || code > 0x7e) {
      // outside printable ASCII: \uXXXX (UTF-16 code units, as java.util.Properties reads them)
      for (const unit of ch.split('').map((c) => c.charCodeAt(0))) out += '\\u' + unit.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out.replace(/^ /, '\\ ');
}

/** File name of the CA bundle the guard writes beside the app's properties, for its JDBC driver. */
export const JDBC_CA_FILE = 'failover-guard-db-ca.pem';

/**
 * PaperCut's external-database keys (the manual's "Upsize to an external database"): type,
 * JDBC driver, JDBC URL, user and password. TLS follows the app URL's mode. PostgreSQL's driver
 * (pgjdbc) verifies against a PEM root file like libpq: with verify-ca/verify-full the URL names
 * `caFile` (written by {@link writePapercutDatabaseConfig}). MySQL Connector/J verifies only
 * against a Java trust store: with VERIFY_* and a public CA (system, azure) it uses the JVM's
 * own, which holds those roots; with the RDS bundle or a CA file it is REQUIRED (encrypted, not
 * verified), as docs/guard.md says.
 */
export function papercutDatabaseProperties(appUrl: string, password: string, caFile?: string): Array<[string, string]> {
  const r = parseDatabaseUrl(appUrl);
  if (!r.ok) throw new Error(`app.database.url: ${r.message}`);
  const t = r.target;
  const { tls } = t;
  if (databaseKind(appUrl) === 'postgres') {
    const verifies = tls.mode === 'verify-ca' || tls.mode === 'verify-full';
    if (verifies && !caFile) throw new Error('the JDBC URL needs the CA file to verify the server against');
    const root = verifies ? `&sslrootcert=${encodeURIComponent(caFile!)}` : '';
    return [
      ['database.type', 'PostgreSQL'],
      ['database.driver', 'org.postgresql.Driver'],
      ['database.url', `jdbc:postgresql://${jdbcHost(t.host)}:${t.port}/${t.database}?sslmode=${tls.mode}${root}`],
      ['database.username', t.user],
      ['database.password', password],
    ];
  }
  const publicRoots = tls.ca?.kind === 'system' || tls.ca?.kind === 'azure';
  const sslMode = (t as MysqlTarget).sslMode === 'DISABLED' ? 'DISABLED' : publicRoots ? (t as MysqlTarget).sslMode : 'REQUIRED';
  return [
    ['database.type', 'MySQL'],
    ['database.driver', 'com.mysql.cj.jdbc.Driver'],
    // Connector/J's sslMode has the mysql client's values (DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY)
    ['database.url', `jdbc:mysql://${jdbcHost(t.host)}:${t.port}/${t.database}?sslMode=${sslMode}`],
    ['database.username', t.user],
    ['database.password', password],
  ];
}

function jdbcHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The PEM text a JDBC driver verifies against for these TLS settings (Node's roots for `system`). */
export async function jdbcCaPem(tls: DatabaseTls): Promise<string | undefined> {
  if (!tls.ca) return undefined;
  const ca = await loadCa(tls.ca, tls.keys);
  const pems = ca === undefined ? [...rootCertificates] : typeof ca === 'string' ? [ca] : ca;
  return pems.map((p) => p.trim()).join('\n') + '\n';
}

/**
 * PaperCut's `database.*` keys in `file`, and for a verifying PostgreSQL URL the CA bundle beside
 * it ({@link JDBC_CA_FILE}, the path as the app sees it), each rewritten only when it changed.
 * True when anything was written.
 */
export async function writePapercutDatabaseConfig(file: string, appUrl: string, password: string): Promise<boolean> {
  const r = parseDatabaseUrl(appUrl);
  if (!r.ok) throw new Error(`app.database.url: ${r.message}`);
  const { tls } = r.target;
  const needsFile = databaseKind(appUrl) === 'postgres' && (tls.mode === 'verify-ca' || tls.mode === 'verify-full');
  const caFile = needsFile ? join(dirname(file), JDBC_CA_FILE) : undefined;
  let wrote = false;
  if (caFile) wrote = await writeIfChanged(caFile, (await jdbcCaPem(tls))!, 0o644);
  return (await writePropertiesFile(file, papercutDatabaseProperties(appUrl, password, caFile))) || wrote;
}

/** Writes `text` to `file` through a temp file and a rename, unless it already holds it. */
async function writeIfChanged(file: string, text: string, mode: number): Promise<boolean> {
  const before = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (before === text) return false;
  const tmp = join(dirname(file), `.${basename(file)}.fg-${process.pid}`);
  try {
    await fs.writeFile(tmp, text, { mode });
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  return true;
}

/** The key of a properties line, or undefined for comments and blank lines. */
function lineKey(line: string): string | undefined {
  const trimmed = line.replace(/^\s+/, '');
  if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('!')) return undefined;
  const m = /^((?:\\.|[^\s=:\\])+)/.exec(trimmed);
  return m?.[1];
}

const MARK = '# written by failover-guard before each start (from the app secret); edits here are replaced';

/**
 * Sets `entries` in properties text: the first line of each key is replaced, later duplicates
 * removed, missing keys appended; every other line is kept as it was.
 */
export function setProperties(text: string, entries: ReadonlyArray<readonly [string, string]>): string {
  const wanted = new Map(entries.map(([k, v]) => [k, `${k}=${escapePropertyValue(v)}`]));
  const seen = new Set<string>();
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const out: string[] = [];
  for (const line of lines) {
    const key = lineKey(line);
    if (key === undefined || !wanted.has(key)) {
      out.push(line);
      continue;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(wanted.get(key)!);
  }
  const missing = [...wanted.keys()].filter((k) => !seen.has(k));
  if (missing.length > 0) {
    if (!out.includes(MARK)) out.push(MARK);
    for (const k of missing) out.push(wanted.get(k)!);
  }
  return out.join(eol) + eol;
}

/**
 * Writes `entries` into the properties file at `file` (following a link to the share): a new
 * file in the same directory, same mode and owner, renamed over the old one, so PaperCut never
 * reads half a file. Returns false when the content was already right (nothing written).
 */
export async function writePropertiesFile(file: string, entries: ReadonlyArray<readonly [string, string]>): Promise<boolean> {
  const real = await fs.realpath(file);
  const before = await fs.readFile(real, 'utf8');
  const after = setProperties(before, entries);
  if (after === before) return false;
  const st = await fs.stat(real);
  const tmp = join(dirname(real), `.${basename(real)}.fg-${process.pid}`);
  try {
    await fs.writeFile(tmp, after, { mode: st.mode & 0o777 });
    await fs.chmod(tmp, st.mode & 0o777);
    if (process.getuid?.() === 0) await fs.chown(tmp, st.uid, st.gid);
    await fs.rename(tmp, real);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  return true;
}
