import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'crypto';
import { TABLES } from '../lease/store';
import { openSession, urlIdentity, withSession, type SessionTarget, type SqlSession } from '../lease/sql-session';

/**
 * The app's own database user and database, made by the guard with the master credentials:
 * created when missing, the user's password set when it no longer matches the app secret (a
 * rotation), nothing touched otherwise. Idempotent; `failover-guard init-db` and the
 * `app-database` hook both call it.
 */
export interface AppDatabaseTargets {
  /** The guard's connection (master user). */
  readonly master: SessionTarget;
  /** The app user's URL and its current password (from the app secret). */
  readonly app: SessionTarget;
}

const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

/** `"name"` (PostgreSQL) or `` `name` `` (MySQL); only plain lower-case names are accepted. */
function quoteIdent(kind: 'postgres' | 'mysql', name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`app database: "${name}" must be lower-case letters, digits and _`);
  return kind === 'postgres' ? `"${name}"` : `\`${name}\``;
}

/**
 * PostgreSQL's SCRAM-SHA-256 verifier for a password (RFC 5802 / 7677), so `CREATE ROLE …
 * PASSWORD` carries the verifier, never the plain password: nothing readable reaches the
 * server's statement log.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Can the app user log in to its database with the secret's password? */
async function appCanConnect(app: SessionTarget): Promise<'ok' | 'auth' | 'no-database'> {
  try {
    await withSession(app, async (s) => s.query('SELECT 1'));
    return 'ok';
  } catch (e) {
    const code = String((e as { code?: unknown }).code ?? '');
    // PostgreSQL 3D000 / MySQL ER_BAD_DB_ERROR: the user could log in, the database is missing
    if (code === '3D000' || code === 'ER_BAD_DB_ERROR') return 'no-database';
    // 28P01/28000 (PostgreSQL), ER_ACCESS_DENIED_ERROR (MySQL): wrong password or no such user
    if (['28P01', '28000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR'].includes(code)) return 'auth';
    throw e;
  }
}

/** Makes the app user and database match the secret; returns what it changed (empty: nothing). */
export async function ensureAppDatabase(t: AppDatabaseTargets): Promise<string[]> {
  const { user, database } = urlIdentity(t.app.url);
  const password = t.app.password;
  if (!password) throw new Error('app database: the app password secret is empty');
  const before = await appCanConnect(t.app);
  if (before === 'ok') return [];
  const changes: string[] = [];
  await withSession(t.master, async (m) => {
    if (m.kind === 'postgres') await ensurePostgres(m, user, database, password, before, changes);
    else await ensureMysql(m, user, database, password, before, changes);
  });
  const after = await appCanConnect(t.app);
  if (after !== 'ok') throw new Error(`app database: ${user} still cannot connect to ${database} (${after}) after ${changes.join(', ') || 'no change'}`);
  return changes;
}

async function ensurePostgres(m: SqlSession, user: string, database: string, password: string, before: string, changes: string[]): Promise<void> {
  const u = quoteIdent('postgres', user);
  const d = quoteIdent('postgres', database);
  const verifier = scramSha256Verifier(password);
  // the verifier is base64 and `$:`: safe inside a literal
  const role = await m.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
  if (role.rows.length === 0) {
    await m.query(`CREATE ROLE ${u} LOGIN PASSWORD '${verifier}'`);
    changes.push(`created user ${user}`);
  } else if (before === 'auth') {
    await m.query(`ALTER ROLE ${u} LOGIN PASSWORD '${verifier}'`);
    changes.push(`set the password of ${user}`);
  }
  const db = await m.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (db.rows.length === 0) {
    await ensureCanSetRole(m, user);
    await m.query(`CREATE DATABASE ${d} OWNER ${u} ENCODING 'UTF8'`);
    // As the owner: a master that may SET ROLE but does not inherit the role's rights (16+)
    // would revoke nothing as itself, and silently (a warning), leaving CONNECT to PUBLIC.
    await m.query(`SET ROLE ${u}`);
    try {
      await m.query(`REVOKE ALL ON DATABASE ${d} FROM PUBLIC`);
    } finally {
      await m.query('RESET ROLE');
    }
    changes.push(`created database ${database}`);
  }
}

/**
 * `CREATE DATABASE … OWNER app` and `SET ROLE app` need the master (no superuser on RDS or
 * Azure) to be able to become the app role. PostgreSQL 16+ checks the SET option: the grant a
 * CREATEROLE master gets for a role it creates has ADMIN but neither SET nor INHERIT, so
 * membership alone is not enough; the master grants itself SET (and no INHERIT: it never
 * acts with the app's rights unasked). Before 16 any membership will do, and `WITH SET` is
 * not valid syntax there.
 */
async function ensureCanSetRole(m: SqlSession, user: string): Promise<void> {
  const u = quoteIdent('postgres', user);
  const version = Number((await m.query('SHOW server_version_num')).rows[0]?.server_version_num);
  const setOption = version >= 160000;
  const can = await m.query('SELECT pg_has_role(current_user, $1, $2) AS ok', [user, setOption ? 'SET' : 'MEMBER']);
  if (can.rows[0]?.ok) return;
  await m.query(setOption ? `GRANT ${u} TO CURRENT_USER WITH SET TRUE, INHERIT FALSE` : `GRANT ${u} TO CURRENT_USER`);
}

/**
 * What the app user may do in its database: every table-level right PaperCut's schema needs,
 * named one by one. Not `ALL PRIVILEGES`: on MariaDB that includes DELETE HISTORY (and SHOW
 * CREATE ROUTINE on 11.4+), which RDS's master does not hold, so the grant would be refused.
 */
const MYSQL_APP_PRIVILEGES =
  'SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES, CREATE TEMPORARY TABLES, LOCK TABLES, CREATE VIEW, SHOW VIEW, EXECUTE, CREATE ROUTINE, ALTER ROUTINE, TRIGGER, EVENT';

async function ensureMysql(m: SqlSession, user: string, database: string, password: string, before: string, changes: string[]): Promise<void> {
  const d = quoteIdent('mysql', database);
  quoteIdent('mysql', user);
  const exists = await m.query(`SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'`, [user]);
  if (exists.rows.length === 0) {
    await m.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
    changes.push(`created user ${user}`);
  } else if (before === 'auth') {
    await m.query(`ALTER USER ?@'%' IDENTIFIED BY ?`, [user, password]);
    changes.push(`set the password of ${user}`);
  }
  const schema = await m.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
  if (schema.rows.length === 0) {
    await m.query(`CREATE DATABASE IF NOT EXISTS ${d} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    changes.push(`created database ${database}`);
  }
  const grants = await m.query('SELECT 1 FROM mysql.db WHERE User = ? AND Host = ? AND Db = ?', [user, '%', database]);
  if (grants.rows.length === 0) {
    await m.query(`GRANT ${MYSQL_APP_PRIVILEGES} ON ${d}.* TO ?@'%'`, [user]);
    changes.push(`granted ${user} its rights on ${database}`);
  }
}

/** Tables in the app's database (as the app user sees it): 0 means a fresh, empty database. */
export async function appTableCount(app: SessionTarget): Promise<number> {
  return withSession(app, async (s) => {
    const sql =
      s.kind === 'postgres'
        ? `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`
        : 'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()';
    return Number((await s.query(sql)).rows[0]?.n ?? 0);
  });
}

/** Marker table of steps run once per cluster (schema init), in the guard's database. */
export const ONCE_TABLE = 'failover_guard_once';

export interface OnceStep {
  readonly cluster: string;
  readonly node: string;
  /** The lease row's holder this step runs for (`node#instance`, see holder-identity.ts): only that guard process's lease counts. */
  readonly holder: string;
  /** The lease term this node holds: every marker write checks it in the same transaction. */
  readonly term: number;
  /** Step key, e.g. `schema-init:papercut_app`. */
  readonly step: string;
}

export type OnceOutcome = { readonly ran: false; readonly reason: string } | { readonly ran: true };

const ONCE_DDL = {
  postgres: `CREATE TABLE IF NOT EXISTS ${ONCE_TABLE} (
    cluster text NOT NULL, step text NOT NULL, term bigint NOT NULL, node text NOT NULL,
    started_at timestamptz NOT NULL, done_at timestamptz, outcome text, PRIMARY KEY (cluster, step))`,
  mysql: `CREATE TABLE IF NOT EXISTS ${ONCE_TABLE} (
    cluster VARCHAR(63) NOT NULL, step VARCHAR(191) NOT NULL, term BIGINT NOT NULL, node VARCHAR(63) NOT NULL,
    started_at DATETIME(6) NOT NULL, done_at DATETIME(6) NULL, outcome VARCHAR(255) NULL, PRIMARY KEY (cluster, step))`,
};

/**
 * Runs `action` once per cluster and step, only on the lease holder: inside one transaction
 * the lease row is locked and checked (this node, this term, not expired, in database time)
 * and the step claimed (start recorded); after `action` the step is marked done the same way
 * (finish recorded). A step already done is skipped. `skip` may decide it must not run at all
 * (e.g. the database is not empty): then it is marked done with that reason, unless an earlier
 * claim never finished (that node died or the step was killed part-way): what `skip` found may
 * be that half-done work, so it is never marked done. The step then fails, naming what `skip`
 * found, until an operator empties the work (the step then runs again from scratch) or
 * deletes the claim.
 */
export async function runOnceUnderLease(master: SessionTarget, step: OnceStep, action: () => Promise<void>, skip?: () => Promise<string | undefined>): Promise<OnceOutcome> {
  const s = await openSession(master);
  try {
    const pg = s.kind === 'postgres';
    const p = (i: number) => (pg ? `$${i}` : '?');
    const now = pg ? 'clock_timestamp()' : 'NOW(6)';
    await s.query(ONCE_DDL[s.kind]);
    const underLease = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      await s.query(pg ? 'BEGIN' : 'START TRANSACTION');
      try {
        const lease = await s.query(
          `SELECT term FROM ${TABLES.lease} WHERE cluster = ${p(1)} AND holder = ${p(2)} AND term = ${p(3)} AND expires_at > ${now} FOR UPDATE`,
          [step.cluster, step.holder, step.term],
        );
        if (lease.rows.length !== 1) throw new Error(`${step.step}: not the lease holder of term ${step.term} any more (${what})`);
        const r = await fn();
        await s.query('COMMIT');
        return r;
      } catch (e) {
        await s.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    };
    const prior = await underLease('claim', async () => {
      const row = await s.query(`SELECT term, node, started_at, done_at, outcome FROM ${ONCE_TABLE} WHERE cluster = ${p(1)} AND step = ${p(2)} FOR UPDATE`, [step.cluster, step.step]);
      if (row.rows.length === 0) {
        await s.query(`INSERT INTO ${ONCE_TABLE} (cluster, step, term, node, started_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${now})`, [step.cluster, step.step, step.term, step.node]);
      }
      return row.rows[0];
    });
    if (prior?.done_at) return { ran: false, reason: `done in term ${String(prior.term)} by ${String(prior.node)} (${String(prior.outcome)})` };
    const reason = await skip?.();
    if (prior) {
      if (reason) {
        const started = prior.started_at instanceof Date ? prior.started_at.toISOString() : String(prior.started_at);
        throw new Error(
          `${step.step}: the run of term ${String(prior.term)} on ${String(prior.node)} (started ${started}) never finished, and ${reason}: ` +
            `a half-done run is never marked done. Empty or drop the app database (the next activation makes it again and runs the step from scratch), ` +
            `or, if the work is known to be complete, delete the row (cluster '${step.cluster}', step '${step.step}') from ${ONCE_TABLE}`,
        );
      }
      // nothing of the earlier run is left: this term runs it again from scratch
      await underLease('claim', async () => {
        await s.query(`UPDATE ${ONCE_TABLE} SET term = ${p(1)}, node = ${p(2)}, started_at = ${now} WHERE cluster = ${p(3)} AND step = ${p(4)} AND done_at IS NULL`, [
          step.term,
          step.node,
          step.cluster,
          step.step,
        ]);
      });
    }
    if (!reason) await action();
    await underLease('mark done', async () => {
      const r = await s.query(`UPDATE ${ONCE_TABLE} SET done_at = ${now}, outcome = ${p(1)} WHERE cluster = ${p(2)} AND step = ${p(3)} AND term = ${p(4)} AND node = ${p(5)}`, [
        reason ? `skipped: ${reason}` : 'ran',
        step.cluster,
        step.step,
        step.term,
        step.node,
      ]);
      if (r.affected !== 1) throw new Error(`${step.step}: the claim of term ${step.term} was taken over`);
    });
    return reason ? { ran: false, reason } : { ran: true };
  } finally {
    await s.close();
  }
}
