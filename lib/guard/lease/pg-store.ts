import type { Client, QueryResult, QueryResultRow } from 'pg';
import type { AcquireResult, Beat, ClusterStatus, EventKind, LeaseStore, LeaseStoreProps, LeaseView, RenewResult } from './store';
import { connectBounds, TABLES } from './store';
import { PasswordCache, withTimeout } from './password-cache';
import { importPg } from '../chunks';
import { ConnectionSlot, type ConnectionDriver } from './connection-slot';
import { DuplicateNodeWatch, holderId, newInstanceId, parseHolder } from './holder-identity';
import { memberStatus, type MemberRow } from './member-status';
import { SessionFence } from './session-fence';
import { MemberColumnsUpgrade, type MemberColumn } from './member-columns';
import { urlIdentity } from './sql-session';
import { explainTlsError, pgConnectOptions } from './database-tls';
import { parsePostgresUrl, type PostgresTarget } from './database-url';

/** SQLSTATEs of a rejected login: the password may have been rotated. */
const AUTH_FAILED = new Set(['28P01', '28000']);

/** PostgreSQL: `postgres://user@host:5432/db[?sslmode=…&sslrootcert=…]` (read by lib/guard/lease/database-url.ts, never by node-postgres). */
export type PgLeaseStoreProps = LeaseStoreProps;

const { lease: LEASE, members: MEMBERS, events: EVENTS } = TABLES;

/**
 * Heartbeat of this node: prepended as a CTE so a lease statement is also the heartbeat. It
 * returns the instance it replaced (null when the row was already this process's): see
 * DuplicateNodeWatch. $6 is this instance, $7 the duplicate this guard currently sees (or null).
 */
const MEMBER_UPSERT = `m AS (
  INSERT INTO ${MEMBERS} AS prev (cluster, node, role, term, last_seen, version, instance, duplicate_instance, duplicate_seen)
  VALUES ($1, $2, $3, $4, clock_timestamp(), $5, $6, $7::text, CASE WHEN $7::text IS NULL THEN NULL ELSE clock_timestamp() END)
  ON CONFLICT (cluster, node) DO UPDATE
    SET role = EXCLUDED.role, term = EXCLUDED.term, last_seen = EXCLUDED.last_seen, version = EXCLUDED.version,
      replaced_instance = CASE WHEN prev.instance <> EXCLUDED.instance THEN prev.instance END,
      instance = EXCLUDED.instance,
      duplicate_instance = COALESCE(EXCLUDED.duplicate_instance, prev.duplicate_instance),
      duplicate_seen = COALESCE(EXCLUDED.duplicate_seen, prev.duplicate_seen)
  RETURNING replaced_instance)`;

const REMAINING = `GREATEST(0, EXTRACT(EPOCH FROM (expires_at - clock_timestamp())) * 1000)`;

/** acquire: the design's statement ($8 = node#instance); $10 = false makes it a pure poll (back-off, maintenance). */
export const POLL_SQL = `WITH ${MEMBER_UPSERT},
a AS (
  UPDATE ${LEASE} SET holder = $8, term = term + 1, expires_at = clock_timestamp() + make_interval(secs => $9)
  WHERE cluster = $1 AND expires_at < clock_timestamp() AND NOT maintenance AND $10::boolean
  RETURNING holder, term, expires_at, maintenance)
SELECT true AS acquired, holder, term, ${REMAINING} AS remaining_ms, maintenance, (SELECT replaced_instance FROM m) AS replaced FROM a
UNION ALL
SELECT false, holder, term, ${REMAINING}, maintenance, (SELECT replaced_instance FROM m) FROM ${LEASE}
WHERE cluster = $1 AND NOT EXISTS (SELECT 1 FROM a)`;

/** renew: exactly one row (holder = node#instance and term match) or this process is no longer the leader. */
export const RENEW_SQL = `WITH ${MEMBER_UPSERT},
r AS (
  UPDATE ${LEASE} SET expires_at = clock_timestamp() + make_interval(secs => $9)
  WHERE cluster = $1 AND holder = $8 AND term = $4
  RETURNING holder, term, expires_at, maintenance)
SELECT r.holder, r.term, ${REMAINING} AS remaining_ms, r.maintenance, m.replaced_instance AS replaced FROM m LEFT JOIN r ON true`;

/** release: expire now in database time, only if still this process's. */
export const RELEASE_SQL = `UPDATE ${LEASE} SET expires_at = clock_timestamp()
WHERE cluster = $1 AND holder = $2 AND term = $3 AND expires_at > clock_timestamp()`;

/**
 * Members columns added after the first release, each with its type: added to a table of the
 * previous shape by init-db and by a store's first statement. Guards of the previous version
 * keep working beside them (their upsert leaves the new columns at their defaults).
 */
const MEMBER_COLUMNS: readonly MemberColumn[] = [
  ['instance', "text NOT NULL DEFAULT ''"],
  ['replaced_instance', 'text'],
  ['duplicate_instance', 'text'],
  ['duplicate_seen', 'timestamptz'],
];

const INIT_SQL = [
  `CREATE TABLE IF NOT EXISTS ${LEASE} (
    cluster text PRIMARY KEY,
    holder text,
    term bigint NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL DEFAULT to_timestamp(0),
    maintenance boolean NOT NULL DEFAULT false)`,
  `CREATE TABLE IF NOT EXISTS ${MEMBERS} (
    cluster text NOT NULL,
    node text NOT NULL,
    role text NOT NULL,
    term bigint NOT NULL,
    last_seen timestamptz NOT NULL,
    version text NOT NULL,
    ${MEMBER_COLUMNS.map(([name, type]) => `${name} ${type},`).join('\n    ')}
    PRIMARY KEY (cluster, node))`,
  `CREATE TABLE IF NOT EXISTS ${EVENTS} (
    id bigserial PRIMARY KEY,
    cluster text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    node text NOT NULL,
    event text NOT NULL,
    term bigint NOT NULL,
    detail text)`,
  `CREATE INDEX IF NOT EXISTS ${EVENTS}_cluster_id ON ${EVENTS} (cluster, id DESC)`,
];

interface LeaseRow {
  holder: string | null;
  term: string;
  remaining_ms: string;
  maintenance: boolean;
}

function leaseView(row: LeaseRow): LeaseView {
  const { node, instance } = parseHolder(row.holder);
  return { holder: node, holderInstance: instance, term: Number(row.term), remainingMs: Math.round(Number(row.remaining_ms)), maintenance: row.maintenance };
}

/**
 * PostgreSQL lease store on plain connections (no session state is relied on: no advisory
 * locks, no temp tables), so it works behind poolers and across a database failover: one for
 * the lease statements, one beside it for event inserts and fencing, so neither ever waits
 * behind the other or drops its connection. Any error drops that connection; the next statement
 * reconnects. A reconnect is bounded like a statement (password wait and connect each at most
 * the connect timeout), and the password is fetched again only when the server rejects it.
 */
export class PgLeaseStore implements LeaseStore {
  readonly instance: string;
  readonly predecessor?: string;
  private count = 0;
  private readonly holder: string;
  private readonly passwords: PasswordCache;
  /** Lease statements only. */
  private readonly connection: ConnectionSlot<Client>;
  /** Events and fencing: never in a renew's way. */
  private readonly side: ConnectionSlot<Client>;
  private readonly watch: DuplicateNodeWatch;
  private readonly fence: SessionFence;
  private readonly shape: MemberColumnsUpgrade;

  private readonly target: PostgresTarget;

  constructor(private readonly props: PgLeaseStoreProps) {
    const parsed = parsePostgresUrl(props.url);
    if (!parsed.ok) throw new Error(`database.url: ${parsed.message}`);
    this.target = parsed.target;
    this.instance = props.instance ?? newInstanceId();
    this.holder = holderId(props.node, this.instance);
    this.predecessor = props.predecessor;
    this.watch = new DuplicateNodeWatch(props.node, props.log);
    this.fence = new SessionFence(urlIdentity(props.url).user, props.log);
    this.passwords = new PasswordCache(props.password);
    const end = (c: Client) => c.end().catch(() => undefined);
    const driver: ConnectionDriver<Client> = {
      open: (slot) => this.connect(slot),
      discard: (c) => void end(c),
      end,
      passwordRejected: (e) => AUTH_FAILED.has((e as { code?: string }).code ?? ''),
    };
    this.connection = new ConnectionSlot(driver, this.passwords, connectBounds(props).waitMs);
    this.side = new ConnectionSlot(driver, this.passwords, connectBounds(props).waitMs);
    this.shape = new MemberColumnsUpgrade(MEMBER_COLUMNS, {
      present: async () =>
        (await this.query<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`, [MEMBERS])).map((r) => r.name),
      // a constant default: no table rewrite, the lock is held for a moment
      add: async (name, type) => void (await this.query(`ALTER TABLE ${MEMBERS} ADD COLUMN IF NOT EXISTS ${name} ${type}`)),
      raced: (e) => ['42701', '23505'].includes((e as { code?: string }).code ?? ''),
    });
  }

  get statements(): number {
    return this.count;
  }

  get duplicateNodeId(): string | undefined {
    return this.watch.duplicate;
  }

  /** Password fetches so far (the secret is fetched on the first connect and after auth failures only). */
  get passwordFetches(): number {
    return this.passwords.fetches;
  }

  private async connect(slot: ConnectionSlot<Client>): Promise<Client> {
    const q = Math.round(this.props.queryTimeoutSecs * 1000);
    // The caller waits for it at most waitMs (ConnectionSlot); the connect itself goes on up to
    // limitMs and its connection is kept. The password wait keeps waitMs: the fetch goes on in
    // the password cache, and the error says what was slow.
    const { waitMs, limitMs: connectMs } = connectBounds(this.props);
    // Loaded on first connect: a guard on MySQL never pays for pg.
    const { Client } = await importPg();
    const password = await this.passwords.get(waitMs);
    // No statement_timeout startup parameter: PgBouncer rejects unknown startup parameters by
    // default. The server-side timeout is SET once connected (below); query_timeout is client-side.
    const t = this.target;
    const c = new Client({
      ...(await pgConnectOptions(t, password)),
      connectionTimeoutMillis: connectMs,
      query_timeout: q,
      application_name: `failover-guard ${this.props.node}`,
      keepAlive: true,
    });
    c.on('error', () => slot.drop(c));
    try {
      await withTimeout(c.connect(), connectMs + 100, 'connecting to the database');
      this.count++; // once per (re)connect, never in steady state
      await c.query(`SET statement_timeout = ${q}`);
    } catch (e) {
      void c.end().catch(() => undefined);
      throw explainTlsError(e, t.tls, t.host);
    }
    return c;
  }

  private async exec<R extends object>(sql: string, params: unknown[] = [], slot = this.connection): Promise<QueryResult<R & QueryResultRow>> {
    const c = await slot.get();
    this.count++;
    try {
      return await c.query<R & QueryResultRow>(sql, params);
    } catch (e) {
      slot.drop(c);
      throw e;
    }
  }

  private async query<R extends object>(sql: string, params: unknown[] = [], slot = this.connection): Promise<R[]> {
    return (await this.exec<R>(sql, params, slot)).rows;
  }

  private beatParams(beat: Beat): unknown[] {
    return [this.props.cluster, this.props.node, beat.role, beat.term, this.props.version, this.instance, this.watch.duplicate ?? null, this.holder];
  }

  async init(): Promise<void> {
    for (const sql of INIT_SQL) {
      try {
        await this.query(sql);
      } catch (e) {
        // Guards starting together race on CREATE … IF NOT EXISTS (duplicate key, relation or type).
        const code = (e as { code?: string }).code;
        if (code !== '23505' && code !== '42P07' && code !== '42710') throw e;
      }
    }
    this.shape.reset();
    await this.shape.ensure();
    await this.query(`INSERT INTO ${LEASE} (cluster) VALUES ($1) ON CONFLICT (cluster) DO NOTHING`, [this.props.cluster]);
  }

  async poll(beat: Beat, leaseSecs: number, tryAcquire: boolean): Promise<AcquireResult> {
    await this.shape.ensure();
    const rows = await this.query<LeaseRow & { acquired: boolean; replaced: string | null }>(POLL_SQL, [...this.beatParams(beat), leaseSecs, tryAcquire]);
    if (rows.length !== 1) throw new Error(`no lease row for cluster ${this.props.cluster}; run init-db`);
    this.watch.beat(rows[0].replaced, leaseSecs * 1000);
    const result = { acquired: rows[0].acquired, lease: leaseView(rows[0]) };
    if (result.acquired && this.props.appUser && this.fence.applies(this.props.appUser)) void this.fenceOtherNodes(this.props.appUser, result.lease.term);
    return result;
  }

  async renew(term: number, beat: Beat, leaseSecs: number): Promise<RenewResult> {
    await this.shape.ensure();
    const [row] = await this.query<LeaseRow & { replaced: string | null }>(RENEW_SQL, [...this.beatParams({ ...beat, term }), leaseSecs]);
    if (row) this.watch.beat(row.replaced, leaseSecs * 1000);
    return row?.holder != null ? { renewed: true, lease: leaseView(row) } : { renewed: false };
  }

  async release(term: number, instance = this.instance): Promise<boolean> {
    return (await this.exec(RELEASE_SQL, [this.props.cluster, holderId(this.props.node, instance), term])).rowCount === 1;
  }

  /**
   * Database-side fencing: ends the app user's sessions that come from other nodes (any client
   * address but the one this guard connects from), so an old node whose guard stalled cannot
   * write after the lease moved. Needs the privileges of the app role (membership) or
   * pg_signal_backend, and to see the sessions' addresses, pg_read_all_stats or membership.
   * Never in the acquire's way: on the side connection, failures are logged.
   */
  private async fenceOtherNodes(appUser: string, term: number): Promise<void> {
    try {
      const sessions = await this.query<{ pid: number; addr: string | null; port: number | null; mine: string | null }>(
        `SELECT pid, host(client_addr) AS addr, client_port AS port, host(inet_client_addr()) AS mine
         FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid() AND (backend_type = 'client backend' OR backend_type IS NULL)`,
        [appUser],
        this.side,
      );
      await this.fence.run(
        {
          appUser,
          term,
          mine: sessions[0]?.mine ?? null,
          // client_port (and backend_type): NULL when the row is hidden from the guard; -1 for a Unix socket
          sessions: sessions.map((s) => ({ id: s.pid, addr: s.port === null ? undefined : s.port === -1 ? null : s.addr })),
          kill: async (pid) => (await this.query<{ ok: boolean }>(`SELECT pg_terminate_backend($1) AS ok`, [pid], this.side))[0]?.ok === true,
          denied: (e) => (e as { code?: string }).code === '42501',
        },
        'membership in the app role, or pg_signal_backend and pg_read_all_stats',
      );
    } catch (e) {
      this.props.log?.warn({ err: String(e), appUser, term }, 'database-side fencing failed; the lease was taken all the same');
    }
  }

  async setMaintenance(on: boolean): Promise<void> {
    const rows = await this.query(
      `WITH u AS (UPDATE ${LEASE} SET maintenance = $2 WHERE cluster = $1 RETURNING term)
       INSERT INTO ${EVENTS} (cluster, node, event, term) SELECT $1, $3, $4, term FROM u RETURNING id`,
      [this.props.cluster, on, this.props.node, on ? 'maintenance-on' : 'maintenance-off'],
    );
    if (rows.length !== 1) throw new Error(`no lease row for cluster ${this.props.cluster}; run init-db`);
  }

  async recordEvent(event: EventKind, term: number, detail?: string): Promise<void> {
    await this.query(
      `INSERT INTO ${EVENTS} (cluster, node, event, term, detail) VALUES ($1, $2, $3, $4, $5)`,
      [this.props.cluster, this.props.node, event, term, detail ?? null],
      this.side,
    );
  }

  async status(eventLimit = 10): Promise<ClusterStatus> {
    await this.shape.ensure();
    const [lease] = await this.query<LeaseRow>(`SELECT holder, term, ${REMAINING} AS remaining_ms, maintenance FROM ${LEASE} WHERE cluster = $1`, [
      this.props.cluster,
    ]);
    if (!lease) throw new Error(`no lease row for cluster ${this.props.cluster}; run init-db`);
    const members = await this.query<MemberRow>(
      `SELECT node, role, term, EXTRACT(EPOCH FROM (clock_timestamp() - last_seen)) * 1000 AS ago, version, instance, duplicate_instance,
         EXTRACT(EPOCH FROM (clock_timestamp() - duplicate_seen)) * 1000 AS duplicate_ago
       FROM ${MEMBERS} WHERE cluster = $1 ORDER BY node`,
      [this.props.cluster],
    );
    const events = await this.query<{ at: Date; node: string; event: string; term: string; detail: string | null }>(
      `SELECT at, node, event, term, detail FROM ${EVENTS} WHERE cluster = $1 ORDER BY id DESC LIMIT $2`,
      [this.props.cluster, eventLimit],
    );
    return {
      cluster: this.props.cluster,
      lease: leaseView(lease),
      members: members.map(memberStatus),
      events: events.map((e) => ({ at: e.at.toISOString(), node: e.node, event: e.event, term: Number(e.term), detail: e.detail })),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.connection.close(), this.side.close()]);
  }
}
