import { promises as fs } from 'fs';
import { basename, dirname, join } from 'path';
import { databaseKind, parseMysqlUrl } from './database-url';
import { urlIdentity } from './sql-session';

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

/**
 * PaperCut's external-database keys (the manual's "Upsize to an external database"): type,
 * JDBC driver, JDBC URL, user and password. TLS follows the app URL's mode, which the
 * constructs always set to required (`sslmode=require` / `ssl-mode=REQUIRED`).
 */
export function papercutDatabaseProperties(appUrl: string, password: string): Array<[string, string]> {
  const { user, database } = urlIdentity(appUrl);
  const u = new URL(appUrl.replace(/^[a-z]+:/i, 'http:'));
  if (databaseKind(appUrl) === 'postgres') {
    const sslmode = u.searchParams.get('sslmode') ?? 'prefer';
    const host = u.port ? `${u.hostname}:${u.port}` : u.hostname;
    return [
      ['database.type', 'PostgreSQL'],
      ['database.driver', 'org.postgresql.Driver'],
      ['database.url', `jdbc:postgresql://${host}/${database}?sslmode=${encodeURIComponent(sslmode)}`],
      ['database.username', user],
      ['database.password', password],
    ];
  }
  const r = parseMysqlUrl(appUrl);
  if (!r.ok) throw new Error(`app.database.url: ${r.message}`);
  const t = r.target;
  return [
    ['database.type', 'MySQL'],
    ['database.driver', 'com.mysql.cj.jdbc.Driver'],
    // Connector/J's sslMode has the mysql client's values (DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY)
    ['database.url', `jdbc:mysql://${t.host}:${t.port}/${t.database}?sslMode=${t.sslMode}`],
    ['database.username', user],
    ['database.password', password],
  ];
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
