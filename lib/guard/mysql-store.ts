import type * as mysql from 'mysql2/promise';
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { parseMysqlUrl, type MysqlTarget } from './database-url';
import type { AcquireResult, Beat, ClusterStatus, EventKind, LeaseStore, LeaseStoreProps, LeaseView, RenewResult } from './store';
import { connectBounds, TABLES } from './store';
import { PasswordCache, withTimeout } from './password-cache';
import { importMysql2 } from './chunks';
import { ConnectionSlot } from './connection-slot';
import { explainTlsError, mysqlSsl } from './database-tls';

/** ER_ACCESS_DENIED_ERROR: the password may have been rotated. */
const ACCESS_DENIED = 1045;

/**
 * MySQL/MariaDB: `url` is `mysql://user@host[:port]/db[?ssl-mode=VERIFY_IDENTITY&ssl-ca=…]` (see
 * {@link parseMysqlUrl}); Q is enforced by the client and by the server (MariaDB
 * `max_statement_time`, MySQL `max_execution_time`).
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
const MEMBER_UPSERT = `INSERT INTO ${MEMBERS} (cluster, node, role, term, last_seen, version)
  VALUES (?, ?, ?, ?, NOW(6), ?)
  ON DUPLICATE KEY UPDATE role = VALUES(role), term = VALUES(term), last_seen = VALUES(last_seen), version = VALUES(version)`;

const REMAINING = `GREATEST(0, TIMESTAMPDIFF(MICROSECOND, NOW(6), expires_at)) / 1000`;

const SELECT_LEASE = `SELECT holder, term, ${REMAINING} AS remaining_ms, maintenance FROM ${LEASE} WHERE cluster = ?`;

/** acquire: the design's statement with NOW(6); the last flag = false makes it a pure poll. */
export const MYSQL_POLL_SQL = `${MEMBER_UPSERT};
UPDATE ${LEASE} SET holder = ?, term = term + 1, expires_at = NOW(6) + INTERVAL ? MICROSECOND
  WHERE cluster = ? AND expires_at < NOW(6) AND NOT maintenance AND ?;
${SELECT_LEASE}`;

/** renew: exactly one matched row (holder and term) or this node is no longer the leader. */
export const MYSQL_RENEW_SQL = `${MEMBER_UPSERT};
UPDATE ${LEASE} SET expires_at = NOW(6) + INTERVAL ? MICROSECOND WHERE cluster = ? AND holder = ? AND term = ?;
${SELECT_LEASE}`;

/** release: expire now in database time, only if still ours. */
export const MYSQL_RELEASE_SQL = `UPDATE ${LEASE} SET expires_at = NOW(6) WHERE cluster = ? AND holder = ? AND term = ? AND expires_at > NOW(6)`;

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
}

function leaseView(row: LeaseRow): LeaseView {
  return { holder: row.holder, term: Number(row.term), remainingMs: Math.round(Number(row.remaining_ms)), maintenance: Boolean(row.maintenance) };
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
 * MySQL/MariaDB lease store on one plain connection. Database time (`NOW(6)`) is the only clock.
 * Per connection the session gets `time_zone = '+00:00'` (DATETIME values are then UTC, no DST
 * jumps) and the server-side statement timeout Q; both are set again on every reconnect, nothing
 * else is kept in the session (no GET_LOCK, no temp tables). Any error drops the connection; the
 * next call reconnects with a freshly fetched password.
 */
export class MysqlLeaseStore implements LeaseStore {
  private count = 0;
  private readonly target: MysqlTarget;
  private readonly passwords: PasswordCache;
  private readonly connection: ConnectionSlot<mysql.Connection>;

  constructor(private readonly props: MysqlLeaseStoreProps) {
    const r = parseMysqlUrl(props.url);
    if (!r.ok) throw new Error(`database.url: ${r.message}`);
    this.target = r.target;
    this.passwords = new PasswordCache(props.password);
    this.connection = new ConnectionSlot<mysql.Connection>(
      {
        open: () => this.connect(),
        discard: (c) => c.destroy(),
        end: (c) => c.end().catch(() => c.destroy()),
        passwordRejected: (e) => (e as { errno?: number }).errno === ACCESS_DENIED,
      },
      this.passwords,
      connectBounds(props).waitMs,
    );
  }

  /** Password fetches so far (the secret is fetched on the first connect and after auth failures only). */
  get passwordFetches(): number {
    return this.passwords.fetches;
  }

  get statements(): number {
    return this.count;
  }

  private get timeoutMs(): number {
    return Math.round(this.props.queryTimeoutSecs * 1000);
  }

  private async connect(): Promise<mysql.Connection> {
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
    c.on('error', () => this.connection.drop(c));
    try {
      const q = this.props.queryTimeoutSecs;
      // counted: once per (re)connect, never in steady state
      this.count++;
      try {
        await c.query({ sql: `SET SESSION time_zone = '+00:00', max_statement_time = ?`, values: [q], timeout: this.timeoutMs }); // MariaDB
      } catch (e) {
        if ((e as { errno?: number }).errno !== 1193) throw e; // ER_UNKNOWN_SYSTEM_VARIABLE: MySQL
        this.count++;
        await c.query({ sql: `SET SESSION time_zone = '+00:00', max_execution_time = ?`, values: [this.timeoutMs], timeout: this.timeoutMs });
      }
    } catch (e) {
      c.destroy();
      throw e;
    }
    return c;
  }

  /** One round-trip; `statements` is what the server executes (a multi-statement counts each). */
  private async exec<T>(sql: string, values: unknown[], statements = 1): Promise<T> {
    const c = await this.connection.get();
    this.count += statements;
    try {
      const [result] = await c.query({ sql, values, timeout: this.timeoutMs });
      return result as T;
    } catch (e) {
      this.connection.drop(c);
      throw e;
    }
  }

  private beatValues(beat: Beat): unknown[] {
    return [this.props.cluster, this.props.node, beat.role, beat.term, this.props.version];
  }

  private noRow(): Error {
    return new Error(`no lease row for cluster ${this.props.cluster}; run init-db`);
  }

  async init(): Promise<void> {
    for (const sql of INIT_SQL) await this.exec(sql, []);
    await this.exec(`INSERT INTO ${LEASE} (cluster) VALUES (?) ON DUPLICATE KEY UPDATE cluster = cluster`, [this.props.cluster]);
  }

  async poll(beat: Beat, leaseSecs: number, tryAcquire: boolean): Promise<AcquireResult> {
    const c = this.props.cluster;
    const [, update, rows] = await this.exec<[ResultSetHeader, ResultSetHeader, LeaseRow[]]>(
      MYSQL_POLL_SQL,
      [...this.beatValues(beat), this.props.node, Math.round(leaseSecs * 1e6), c, tryAcquire, c],
      3,
    );
    if (rows.length !== 1) throw this.noRow();
    return { acquired: update.affectedRows === 1, lease: leaseView(rows[0]) };
  }

  async renew(term: number, beat: Beat, leaseSecs: number): Promise<RenewResult> {
    const c = this.props.cluster;
    const [, update, rows] = await this.exec<[ResultSetHeader, ResultSetHeader, LeaseRow[]]>(
      MYSQL_RENEW_SQL,
      [...this.beatValues({ ...beat, term }), Math.round(leaseSecs * 1e6), c, this.props.node, term, c],
      3,
    );
    return update.affectedRows === 1 && rows.length === 1 ? { renewed: true, lease: leaseView(rows[0]) } : { renewed: false };
  }

  async release(term: number): Promise<boolean> {
    return (await this.exec<ResultSetHeader>(MYSQL_RELEASE_SQL, [this.props.cluster, this.props.node, term])).affectedRows === 1;
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
    await this.exec(`INSERT INTO ${EVENTS} (cluster, at, node, event, term, detail) VALUES (?, NOW(6), ?, ?, ?, ?)`, [
      this.props.cluster,
      this.props.node,
      event,
      term,
      detail ?? null,
    ]);
  }

  async status(eventLimit = 10): Promise<ClusterStatus> {
    const c = this.props.cluster;
    const [leaseRows, members, events] = await this.exec<
      [LeaseRow[], (RowDataPacket & { node: string; role: string; term: string; ago: string; version: string })[], (RowDataPacket & { at: Date; node: string; event: string; term: string; detail: string | null })[]]
    >(
      `${SELECT_LEASE};
       SELECT node, role, term, TIMESTAMPDIFF(MICROSECOND, last_seen, NOW(6)) / 1000 AS ago, version FROM ${MEMBERS} WHERE cluster = ? ORDER BY node;
       SELECT at, node, event, term, detail FROM ${EVENTS} WHERE cluster = ? ORDER BY id DESC LIMIT ?`,
      [c, c, c, Math.max(0, Math.floor(eventLimit))],
      3,
    );
    if (leaseRows.length !== 1) throw this.noRow();
    return {
      cluster: c,
      lease: leaseView(leaseRows[0]),
      members: members.map((m) => ({ node: m.node, role: m.role, term: Number(m.term), lastSeenMsAgo: Math.round(Number(m.ago)), version: m.version })),
      events: events.map((e) => ({ at: e.at.toISOString(), node: e.node, event: e.event, term: Number(e.term), detail: e.detail })),
    };
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
