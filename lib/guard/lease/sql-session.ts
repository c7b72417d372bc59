import { databaseKind, parseMysqlUrl, parsePostgresUrl, type DatabaseKind } from './database-url';
import { explainTlsError, pgConnectOptions } from './database-tls';
import { mysqlConnectOptions } from './mysql-store';
import { importMysql2, importPg } from '../chunks';

/**
 * One short-lived connection for the hooks' database work (creating the app user, the schema
 * marker): opened for a task and closed after it, unlike the lease store's long-lived one.
 * Placeholders follow the engine: `$1` on PostgreSQL, `?` on MySQL/MariaDB.
 */
export interface SqlSession {
  readonly kind: DatabaseKind;
  /** The user and database the URL names. */
  readonly user: string;
  readonly database: string;
  query(sql: string, params?: readonly unknown[]): Promise<{ rows: Array<Record<string, unknown>>; affected: number }>;
  close(): Promise<void>;
}

export interface SessionTarget {
  /** `postgres://user@host/db?sslmode=…` or `mysql://user@host/db?ssl-mode=…`, no password. */
  readonly url: string;
  readonly password?: string;
  /** application_name / program_name, so sessions show who they are. */
  readonly application: string;
  /** Per statement and for connecting. @default 10 */
  readonly timeoutSecs?: number;
}

/** user and database named by a URL (either engine). */
export function urlIdentity(url: string): { user: string; database: string } {
  const u = new URL(url.replace(/^[a-z]+:/i, 'http:'));
  return { user: decodeURIComponent(u.username), database: decodeURIComponent(u.pathname.replace(/^\//, '')) };
}

export async function openSession(target: SessionTarget): Promise<SqlSession> {
  const kind = databaseKind(target.url);
  if (!kind) throw new Error('database URL must start with postgres:// or mysql://');
  const ms = Math.round((target.timeoutSecs ?? 10) * 1000);
  const { user, database } = urlIdentity(target.url);
  if (kind === 'postgres') {
    const { Client } = await importPg();
    const parsed = parsePostgresUrl(target.url);
    if (!parsed.ok) throw new Error(`database URL: ${parsed.message}`);
    const t = parsed.target;
    const c = new Client({ ...(await pgConnectOptions(t, target.password)), connectionTimeoutMillis: ms, query_timeout: ms, statement_timeout: ms, application_name: target.application });
    c.on('error', () => undefined);
    try {
      await c.connect();
    } catch (e) {
      void c.end().catch(() => undefined);
      throw explainTlsError(e, t.tls, t.host);
    }
    return {
      kind,
      user,
      database,
      query: async (sql, params = []) => {
        const r = await c.query(sql, [...params]);
        return { rows: r.rows as Array<Record<string, unknown>>, affected: r.rowCount ?? 0 };
      },
      close: () => c.end().catch(() => undefined),
    };
  }
  const parsed = parseMysqlUrl(target.url);
  if (!parsed.ok) throw new Error(`database URL: ${parsed.message}`);
  const t = parsed.target;
  const { createConnection } = await importMysql2();
  const c = await createConnection(await mysqlConnectOptions(t, target.password, ms, target.application)).catch((e: unknown) => {
    throw explainTlsError(e, t.tls, t.host);
  });
  c.on('error', () => undefined);
  // DATETIME values compare in UTC, like the lease store's session
  await c.query(`SET SESSION time_zone = '+00:00'`);
  return {
    kind,
    user,
    database,
    query: async (sql, params = []) => {
      const [result] = await c.query({ sql, values: [...params], timeout: ms });
      if (Array.isArray(result)) return { rows: result as Array<Record<string, unknown>>, affected: result.length };
      return { rows: [], affected: (result as { affectedRows?: number }).affectedRows ?? 0 };
    },
    close: async () => {
      await c.end().catch(() => c.destroy());
    },
  };
}

/** Opens a session, runs `fn`, always closes it. */
export async function withSession<T>(target: SessionTarget, fn: (s: SqlSession) => Promise<T>): Promise<T> {
  const s = await openSession(target);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
