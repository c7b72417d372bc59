import type * as mysql from 'mysql2/promise';
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { parseMysqlUrl, type MysqlTarget } from './database-url';
import type { AcquireResult, Beat, ClusterStatus, EventKind, LeaseStore, LeaseStoreProps, LeaseView, RenewResult } from './store';
import { connectBounds, TABLES } from './store';
import { PasswordCache, withTimeout } from './password-cache';
import { importMysql2 } from '../chunks';
import { ConnectionSlot, type ConnectionDriver } from './connection-slot';
import { DuplicateNodeWatch, holderId, newInstanceId, parseHolder } from './holder-identity';
import { memberStatus, type MemberRow } from './member-status';
import { SessionFence } from './session-fence';
import { MemberColumnsUpgrade, type MemberColumn } from './member-columns';
import { explainTlsError, mysqlSsl } from './database-tls';

/** ER_ACCESS_DENIED_ERROR: the password may have been rotated. */
const ACCESS_DENIED = 1045;

/**
 * MySQL/MariaDB: `url` is `mysql://user@host[:port]/db[?ssl-mode=VERIFY_IDENTITY&ssl-ca=…]` (see
 * {@link parseMysqlUrl}); Q is enforced by the client and by the server (MariaDB
 * `max_statement_time` on every statement; MySQL `max_execution_time` on SELECT only, so lock
 * waits are bounded too: see {@link lockWaitSecs}).
 */
export type MysqlLeaseStoreProps = LeaseStoreProps;

const { lease: LEASE, members: MEMBERS, events: EVENTS } = TABLES;

/**
 * MySQL cannot return rows from an UPDATE (no RETURNING; MariaDB has it only for INSERT/DELETE),
 * so each lease operation is ONE round-trip carrying three statements (multipleStatements):
 * heartbeat upsert, the conditional lease UPDATE, and a SELECT of the lease row. The server
 * executes three statements per period; the store counts them as three. Whether the UPDATE took
 * effect is its affected-row count: the connection uses CLIENT_FOUND_ROWS, so that is the number
 * of rows MATCHED (1 or 0) even if a value happened not to change.
 */
const MEMBER_UPSERT = `INSERT INTO ${MEMBERS} (cluster, node, role, term, last_seen, version, instance, duplicate_instance, duplicate_seen)
  VALUES (?, ?, ?, ?, NOW(6), ?, ?, ?, IF(? IS NULL, NULL, NOW(6)))
  ON DUPLICATE KEY UPDATE role = VALUES(role), term = VALUES(term), last_seen = VALUES(last_seen), version = VALUES(version),
    replaced_instance = IF(instance <> VALUES(instance), instance, NULL),
    instance = VALUES(instance),
    duplicate_instance = COALESCE(VALUES(duplicate_instance), duplicate_instance),
    duplicate_seen = COALESCE(VALUES(duplicate_seen), duplicate_seen)`;

const REMAINING = `GREATEST(0, TIMESTAMPDIFF(MICROSECOND, NOW(6), expires_at)) / 1000`;

const SELECT_LEASE = `SELECT holder, term, ${REMAINING} AS remaining_ms, maintenance FROM ${LEASE} WHERE cluster = ?`;

/** The lease row and the instance this statement's heartbeat replaced (see DuplicateNodeWatch); node, cluster. */
const SELECT_LEASE_AND_BEAT = `SELECT l.holder, l.term, GREATEST(0, TIMESTAMPDIFF(MICROSECOND, NOW(6), l.expires_at)) / 1000 AS remaining_ms, l.maintenance,
  m.replaced_instance AS replaced
  FROM ${LEASE} l LEFT JOIN ${MEMBERS} m ON m.cluster = l.cluster AND m.node = ? WHERE l.cluster = ?`;

/** acquire: the design's statement with NOW(6), holder = node#instance; the last flag = false makes it a pure poll. */
export const MYSQL_POLL_SQL = `${MEMBER_UPSERT};
UPDATE ${LEASE} SET holder = ?, term = term + 1, expires_at = NOW(6) + INTERVAL ? MICROSECOND
  WHERE cluster = ? AND expires_at < NOW(6) AND NOT maintenance AND ?;
${SELECT_LEASE_AND_BEAT}`;

/** renew: exactly one matched row (holder = node#instance and term) or this process is no longer the leader. */
export const MYSQL_RENEW_SQL = `${MEMBER_UPSERT};
UPDATE ${LEASE} SET expires_at = NOW(6) + INTERVAL ? MICROSECOND WHERE cluster = ? AND holder = ? AND term = ?;
${SELECT_LEASE_AND_BEAT}`;

/** release: expire now in database time, only if still this process's. */
export const MYSQL_RELEASE_SQL = `UPDATE ${LEASE} SET expires_at = NOW(6) WHERE cluster = ? AND holder = ? AND term = ? AND expires_at > NOW(6)`;

/**
 * Members columns added after the first release: added to a table of the previous shape by
 * init-db and by a store's first statement (MySQL 8 has no ADD COLUMN IF NOT EXISTS, so the
 * columns present are looked up first). Guards of the previous version keep working beside
 * them (their upsert leaves the new columns at their defaults).
 */
const MEMBER_COLUMNS: readonly MemberColumn[] = [
  ['instance', "VARCHAR(64) NOT NULL DEFAULT ''"],
  ['replaced_instance', 'VARCHAR(64) NULL'],
  ['duplicate_instance', 'VARCHAR(64) NULL'],
  ['duplicate_seen', 'DATETIME(6) NULL'],
];

const INIT_SQL = [
  `CREATE TABLE IF NOT EXISTS ${LEASE} (
    cluster VARCHAR(255) NOT NULL PRIMARY KEY,
    holder VARCHAR(255) NULL,
    term BIGINT NOT NULL DEFAULT 0,
    expires_at DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:00',
    maintenance BOOLEAN NOT NULL DEFAULT FALSE) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS ${MEMBERS} (
    cluster VARCHAR(255) NOT NULL,
    node VARCHAR(255) NOT NULL,
    role VARCHAR(32) NOT NULL,
    term BIGINT NOT NULL,
    last_seen DATETIME(6) NOT NULL,
    version VARCHAR(64) NOT NULL,
    ${MEMBER_COLUMNS.map(([name, type]) => `${name} ${type},`).join('\n    ')}
    PRIMARY KEY (cluster, node)) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS ${EVENTS} (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    cluster VARCHAR(255) NOT NULL,
    at DATETIME(6) NOT NULL,
    node VARCHAR(255) NOT NULL,
    event VARCHAR(32) NOT NULL,
    term BIGINT NOT NULL,
    detail TEXT NULL,
    KEY ${EVENTS}_cluster_id (cluster, id)) ENGINE=InnoDB`,
];

interface LeaseRow extends RowDataPacket {
  holder: string | null;
  term: string | number;
  remaining_ms: string | number;
  maintenance: number;
  replaced?: string | null;
}

function leaseView(row: LeaseRow): LeaseView {
  const { node, instance } = parseHolder(row.holder);
  return { holder: node, holderInstance: instance, term: Number(row.term), remainingMs: Math.round(Number(row.remaining_ms)), maintenance: Boolean(row.maintenance) };
}

/**
 * What every guard connection to MySQL/MariaDB sets: the URL's target and TLS mode, affected
 * rows counted as found rows (CLIENT_FOUND_ROWS), DATETIME values in UTC, and who is connecting.
 */
export async function mysqlConnectOptions(target: MysqlTarget, password: string | undefined, connectTimeoutMs: number, program: string): Promise<mysql.ConnectionOptions> {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    password,
    ssl: await mysqlSsl(target.tls),
    connectTimeout: connectTimeoutMs,
    flags: ['FOUND_ROWS'],
    timezone: 'Z',
    connectAttributes: { program_name: program },
  };
}

/**
 * Whole seconds a statement may wait for a row or table lock: Q rounded down, at least 1 (the
 * variables take whole seconds). MySQL's `max_execution_time` covers SELECT only, so without
 * this a renew UPDATE that the client gave up on at Q could wait for a row lock for InnoDB's
 * default 50 s and then commit, extending a lease its node no longer counts on.
 */
export function lockWaitSecs(queryTimeoutSecs: number): number {
  return Math.max(1, Math.floor(queryTimeoutSecs));
}

/** The session settings that bound lock waits by Q, on MySQL and MariaDB alike. */
export function lockWaitSettings(queryTimeoutSecs: number): string {
  const secs = lockWaitSecs(queryTimeoutSecs);
  return `innodb_lock_wait_timeout = ${secs}, lock_wait_timeout = ${secs}`;
}

/** `KILL` refused: ER_KILL_DENIED_ERROR, ER_SPECIFIC_ACCESS_DENIED_ERROR, no such procedure (mysql.rds_kill off RDS), EXECUTE denied. */
const KILL_DENIED = new Set([1095, 1227, 1305, 1370]);
/** ER_NO_SUCH_THREAD: the session ended meanwhile. */
const NO_SUCH_THREAD = 1094;

/** The address part of a PROCESSLIST `HOST` (`10.0.1.5:51234`); null for a local socket (`localhost`). */
export function processlistAddress(host: string | null): string | null {
  if (host === null || host === 'localhost' || host === '') return null;
  const m = /^(.*):\d+$/.exec(host);
  return m ? m[1] : host;
}

/**
 * MySQL/MariaDB lease store on plain connections: one for the lease statements, one beside it
 * for event inserts and fencing, so neither waits behind the other or drops its connection.
 * Database time (`NOW(6)`) is the only clock. Per connection the session gets
 * `time_zone = '+00:00'` (DATETIME values are then UTC, no DST jumps), the statement timeout Q
 * (MariaDB `max_statement_time` covers every statement; MySQL `max_execution_time` only SELECT)
 * and lock waits bounded by Q in whole seconds (`innodb_lock_wait_timeout`, `lock_wait_timeout`:
 * an UPDATE the client gave up on must not commit long after); all set again on every
 * reconnect, nothing else is kept in the session (no GET_LOCK, no temp tables). Any error drops
 * that connection; the next call reconnects.
 */
export class MysqlLeaseStore implements LeaseStore {
  readonly instance: string;
  readonly predecessor?: string;
  private count = 0;
  private readonly holder: string;
  private readonly target: MysqlTarget;
  private readonly passwords: PasswordCache;
  /** Lease statements only. */
  private readonly connection: ConnectionSlot<mysql.Connection>;
  /** Events and fencing: never in a renew's way. */
  private readonly side: ConnectionSlot<mysql.Connection>;
  private readonly watch: DuplicateNodeWatch;
  private readonly fence: SessionFence;
  private readonly shape: MemberColumnsUpgrade;

  constructor(private readonly props: MysqlLeaseStoreProps) {
    const r = parseMysqlUrl(props.url);
    if (!r.ok) throw new Error(`database.url: ${r.message}`);
    this.target = r.target;
    this.instance = props.instance ?? newInstanceId();
    this.holder = holderId(props.node, this.instance);
    this.predecessor = props.predecessor;
    this.watch = new DuplicateNodeWatch(props.node, props.log);
    this.fence = new SessionFence(r.target.user, props.log);
    this.passwords = new PasswordCache(props.password);
    const driver: ConnectionDriver<mysql.Connection> = {
      open: (slot) => this.connect(slot),
      discard: (c) => c.destroy(),
      end: (c) => c.end().catch(() => c.destroy()),
      passwordRejected: (e) => (e as { errno?: number }).errno === ACCESS_DENIED,
    };
    this.connection = new ConnectionSlot(driver, this.passwords, connectBounds(props).waitMs);
    this.side = new ConnectionSlot(driver, this.passwords, connectBounds(props).waitMs);
    this.shape = new MemberColumnsUpgrade(MEMBER_COLUMNS, {
      present: async () =>
        (
          await this.exec<(RowDataPacket & { name: string })[]>(`SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, [MEMBERS])
        ).map((r) => r.name.toLowerCase()),
      add: async (name, type) => void (await this.exec(`ALTER TABLE ${MEMBERS} ADD COLUMN ${name} ${type}`, [])),
      raced: (e) => (e as { errno?: number }).errno === 1060, // ER_DUP_FIELDNAME
    });
  }

  /** Password fetches so far (the secret is fetched on the first connect and after auth failures only). */
  get passwordFetches(): number {
    return this.passwords.fetches;
  }

  get statements(): number {
    return this.count;
  }

  get duplicateNodeId(): string | undefined {
    return this.watch.duplicate;
  }

  private get timeoutMs(): number {
    return Math.round(this.props.queryTimeoutSecs * 1000);
  }

  private async connect(slot: ConnectionSlot<mysql.Connection>): Promise<mysql.Connection> {
    const t = this.target;
    // The caller waits for it at most waitMs (ConnectionSlot); the connect itself goes on up to
    // limitMs and its connection is kept. The password wait keeps waitMs: the fetch goes on in
    // the password cache, and the error says what was slow.
    const { waitMs, limitMs: connectMs } = connectBounds(this.props);
    // Loaded on first connect: a guard on PostgreSQL never pays for mysql2 (≈16 MB RSS).
    const { createConnection } = await importMysql2();
    const password = await this.passwords.get(waitMs);
    const connecting = createConnection({
      ...(await mysqlConnectOptions(t, password, connectMs, `failover-guard ${this.props.node}`)),
      multipleStatements: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      enableKeepAlive: true,
    });
    // a connection that completes after the bound is closed, never leaked
    const c = await withTimeout(connecting, connectMs + 100, 'connecting to the database').catch((e: unknown) => {
      void connecting.then((late) => late.destroy(), () => undefined);
      throw explainTlsError(e, t.tls, t.host);
    });
    c.on('error', () => slot.drop(c));
    try {
      const q = this.props.queryTimeoutSecs;
      const common = `time_zone = '+00:00', ${lockWaitSettings(q)}`;
      // counted: once per (re)connect, never in steady state
      this.count++;
      try {
        // MariaDB: max_statement_time (seconds) covers every statement, UPDATE included
        await c.query({ sql: `SET SESSION ${common}, max_statement_time = ?`, values: [q], timeout: this.timeoutMs });
      } catch (e) {
        if ((e as { errno?: number }).errno !== 1193) throw e; // ER_UNKNOWN_SYSTEM_VARIABLE: MySQL
        this.count++;
        // MySQL: max_execution_time (ms) covers SELECT only; the lock waits above bound the rest
        await c.query({ sql: `SET SESSION ${common}, max_execution_time = ?`, values: [this.timeoutMs], timeout: this.timeoutMs });
      }
    } catch (e) {
      c.destroy();
      throw e;
    }
    return c;
  }

  /** One round-trip; `statements` is what the server executes (a multi-statement counts each). */
  private async exec<T>(sql: string, values: unknown[], statements = 1, slot = this.connection): Promise<T> {
    const c = await slot.get();
    this.count += statements;
    try {
      const [result] = await c.query({ sql, values, timeout: this.timeoutMs });
      return result as T;
    } catch (e) {
      slot.drop(c);
      throw e;
    }
  }

  private beatValues(beat: Beat): unknown[] {
    const dup = this.watch.duplicate ?? null;
    return [this.props.cluster, this.props.node, beat.role, beat.term, this.props.version, this.instance, dup, dup];
  }

  private noRow(): Error {
    return new Error(`no lease row for cluster ${this.props.cluster}; run init-db`);
  }

  async init(): Promise<void> {
    for (const sql of INIT_SQL) await this.exec(sql, []);
    this.shape.reset();
    await this.shape.ensure();
    await this.exec(`INSERT INTO ${LEASE} (cluster) VALUES (?) ON DUPLICATE KEY UPDATE cluster = cluster`, [this.props.cluster]);
  }

  async poll(beat: Beat, leaseSecs: number, tryAcquire: boolean): Promise<AcquireResult> {
    await this.shape.ensure();
    const c = this.props.cluster;
    const [, update, rows] = await this.exec<[ResultSetHeader, ResultSetHeader, LeaseRow[]]>(
      MYSQL_POLL_SQL,
      [...this.beatValues(beat), this.holder, Math.round(leaseSecs * 1e6), c, tryAcquire, this.props.node, c],
      3,
    );
    if (rows.length !== 1) throw this.noRow();
    this.watch.beat(rows[0].replaced, leaseSecs * 1000);
    const result = { acquired: update.affectedRows === 1, lease: leaseView(rows[0]) };
    if (result.acquired && this.props.appUser && this.fence.applies(this.props.appUser)) void this.fenceOtherNodes(this.props.appUser, result.lease.term);
    return result;
  }

  async renew(term: number, beat: Beat, leaseSecs: number): Promise<RenewResult> {
    await this.shape.ensure();
    const c = this.props.cluster;
    const [, update, rows] = await this.exec<[ResultSetHeader, ResultSetHeader, LeaseRow[]]>(
      MYSQL_RENEW_SQL,
      [...this.beatValues({ ...beat, term }), Math.round(leaseSecs * 1e6), c, this.holder, term, this.props.node, c],
      3,
    );
    if (rows.length === 1) this.watch.beat(rows[0].replaced, leaseSecs * 1000);
    return update.affectedRows === 1 && rows.length === 1 ? { renewed: true, lease: leaseView(rows[0]) } : { renewed: false };
  }

  async release(term: number, instance = this.instance): Promise<boolean> {
    return (await this.exec<ResultSetHeader>(MYSQL_RELEASE_SQL, [this.props.cluster, holderId(this.props.node, instance), term])).affectedRows === 1;
  }

  /**
   * Database-side fencing: ends the app user's sessions that come from other hosts than this
   * guard's, so an old node whose guard stalled cannot write after the lease moved. Seeing them
   * needs PROCESS; ending them CONNECTION_ADMIN (MySQL 8) / CONNECTION ADMIN (MariaDB) or SUPER,
   * or on RDS the `mysql.rds_kill` procedure (tried when KILL is refused). Never in the acquire's
   * way: on the side connection, failures are logged.
   */
  private async fenceOtherNodes(appUser: string, term: number): Promise<void> {
    try {
      const [sessions, privileges] = await this.exec<[(RowDataPacket & { id: number | string; host: string | null; mine: string | null })[], (RowDataPacket & { n: number | string })[]]>(
        `SELECT ID AS id, HOST AS host, (SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()) AS mine
           FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID();
         SELECT COUNT(*) AS n FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN ('PROCESS', 'SUPER')`,
        [appUser],
        2,
        this.side,
      );
      const kill = async (id: number): Promise<boolean> => {
        try {
          await this.exec(`KILL CONNECTION ?`, [id], 1, this.side);
        } catch (e) {
          const errno = (e as { errno?: number }).errno;
          if (errno === NO_SUCH_THREAD) return false;
          if (errno !== 1095 && errno !== 1227) throw e;
          // RDS: the master user ends other users' sessions through this procedure
          await this.exec(`CALL mysql.rds_kill(?)`, [id], 1, this.side);
        }
        return true;
      };
      await this.fence.run(
        {
          appUser,
          term,
          mine: processlistAddress(sessions[0]?.mine ?? null),
          hidden: Number(privileges[0]?.n ?? 0) === 0,
          sessions: sessions.map((s) => ({ id: Number(s.id), addr: processlistAddress(s.host) })),
          kill,
          denied: (e) => KILL_DENIED.has((e as { errno?: number }).errno ?? 0),
        },
        'PROCESS, and CONNECTION_ADMIN (MySQL 8) / CONNECTION ADMIN (MariaDB) or SUPER, or mysql.rds_kill on RDS',
      );
    } catch (e) {
      this.props.log?.warn({ err: String(e), appUser, term }, 'database-side fencing failed; the lease was taken all the same');
    }
  }

  async setMaintenance(on: boolean): Promise<void> {
    const c = this.props.cluster;
    const [update] = await this.exec<[ResultSetHeader, ResultSetHeader]>(
      `UPDATE ${LEASE} SET maintenance = ? WHERE cluster = ?;
       INSERT INTO ${EVENTS} (cluster, at, node, event, term) SELECT cluster, NOW(6), ?, ?, term FROM ${LEASE} WHERE cluster = ?`,
      [on, c, this.props.node, on ? 'maintenance-on' : 'maintenance-off', c],
      2,
    );
    if (update.affectedRows !== 1) throw this.noRow();
  }

  async recordEvent(event: EventKind, term: number, detail?: string): Promise<void> {
    await this.exec(
      `INSERT INTO ${EVENTS} (cluster, at, node, event, term, detail) VALUES (?, NOW(6), ?, ?, ?, ?)`,
      [this.props.cluster, this.props.node, event, term, detail ?? null],
      1,
      this.side,
    );
  }

  async status(eventLimit = 10): Promise<ClusterStatus> {
    await this.shape.ensure();
    const c = this.props.cluster;
    const [leaseRows, members, events] = await this.exec<
      [LeaseRow[], (RowDataPacket & MemberRow)[], (RowDataPacket & { at: Date; node: string; event: string; term: string; detail: string | null })[]]
    >(
      `${SELECT_LEASE};
       SELECT node, role, term, TIMESTAMPDIFF(MICROSECOND, last_seen, NOW(6)) / 1000 AS ago, version, instance, duplicate_instance,
         TIMESTAMPDIFF(MICROSECOND, duplicate_seen, NOW(6)) / 1000 AS duplicate_ago
         FROM ${MEMBERS} WHERE cluster = ? ORDER BY node;
       SELECT at, node, event, term, detail FROM ${EVENTS} WHERE cluster = ? ORDER BY id DESC LIMIT ?`,
      [c, c, c, Math.max(0, Math.floor(eventLimit))],
      3,
    );
    if (leaseRows.length !== 1) throw this.noRow();
    return {
      cluster: c,
      lease: leaseView(leaseRows[0]),
      members: members.map(memberStatus),
      events: events.map((e) => ({ at: e.at.toISOString(), node: e.node, event: e.event, term: Number(e.term), detail: e.detail })),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.connection.close(), this.side.close()]);
  }
}
