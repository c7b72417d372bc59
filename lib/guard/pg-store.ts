import type { Client, QueryResult, QueryResultRow } from 'pg';
import type { AcquireResult, Beat, ClusterStatus, EventKind, LeaseStore, LeaseStoreProps, LeaseView, RenewResult } from './store';
import { connectBounds, TABLES } from './store';
import { PasswordCache, withTimeout } from './password-cache';
import { importPg } from './chunks';
import { ConnectionSlot } from './connection-slot';
import { explainTlsError, pgConnectOptions } from './database-tls';
import { parsePostgresUrl, type PostgresTarget } from './database-url';

/** SQLSTATEs of a rejected login: the password may have been rotated. */
const AUTH_FAILED = new Set(['28P01', '28000']);

/** PostgreSQL: `postgres://user@host:5432/db[?sslmode=…&sslrootcert=…]` (read by lib/guard/database-url.ts, never by node-postgres). */
export type PgLeaseStoreProps = LeaseStoreProps;

const { lease: LEASE, members: MEMBERS, events: EVENTS } = TABLES;

/** Heartbeat of this node: prepended as a CTE so a lease statement is also the heartbeat. */
const MEMBER_UPSERT = `m AS (
  INSERT INTO ${MEMBERS} (cluster, node, role, term, last_seen, version)
  VALUES ($1, $2, $3, $4, clock_timestamp(), $5)
  ON CONFLICT (cluster, node) DO UPDATE
    SET role = EXCLUDED.role, term = EXCLUDED.term, last_seen = EXCLUDED.last_seen, version = EXCLUDED.version)`;

const REMAINING = `GREATEST(0, EXTRACT(EPOCH FROM (expires_at - clock_timestamp())) * 1000)`;

/** acquire: the design's statement; $7 = false makes it a pure poll (back-off, maintenance). */
export const POLL_SQL = `WITH ${MEMBER_UPSERT},
a AS (
  UPDATE ${LEASE} SET holder = $2, term = term + 1, expires_at = clock_timestamp() + make_interval(secs => $6)
  WHERE cluster = $1 AND expires_at < clock_timestamp() AND NOT maintenance AND $7::boolean
  RETURNING holder, term, expires_at, maintenance)
SELECT true AS acquired, holder, term, ${REMAINING} AS remaining_ms, maintenance FROM a
UNION ALL
SELECT false, holder, term, ${REMAINING}, maintenance FROM ${LEASE}
WHERE cluster = $1 AND NOT EXISTS (SELECT 1 FROM a)`;

/** renew: exactly one row (holder and term match) or this node is no longer the leader. */
export const RENEW_SQL = `WITH ${MEMBER_UPSERT},
r AS (
  UPDATE ${LEASE} SET expires_at = clock_timestamp() + make_interval(secs => $6)
  WHERE cluster = $1 AND holder = $2 AND term = $4
  RETURNING holder, term, expires_at, maintenance)
SELECT holder, term, ${REMAINING} AS remaining_ms, maintenance FROM r`;

/** release: expire now in database time, only if still ours. */
export const RELEASE_SQL = `UPDATE ${LEASE} SET expires_at = clock_timestamp()
WHERE cluster = $1 AND holder = $2 AND term = $3 AND expires_at > clock_timestamp()`;

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
  return { holder: row.holder, term: Number(row.term), remainingMs: Math.round(Number(row.remaining_ms)), maintenance: row.maintenance };
}

/**
 * PostgreSQL lease store on one plain connection (no session state is relied on: no advisory
 * locks, no temp tables), so it works behind poolers and across a database failover. Any error
 * drops the connection; the next statement reconnects. A reconnect is bounded like a statement
 * (password wait and connect each at most the connect timeout), and the password is fetched
 * again only when the server rejects it.
 */
export class PgLeaseStore implements LeaseStore {
  private count = 0;
  private readonly passwords: PasswordCache;
  private readonly connection: ConnectionSlot<Client>;
  private readonly target: PostgresTarget;

  constructor(private readonly props: PgLeaseStoreProps) {
    const parsed = parsePostgresUrl(props.url);
    if (!parsed.ok) throw new Error(`database.url: ${parsed.message}`);
    this.target = parsed.target;
    this.passwords = new PasswordCache(props.password);
    const end = (c: Client) => c.end().catch(() => undefined);
    this.connection = new ConnectionSlot<Client>(
      { open: () => this.connect(), discard: (c) => void end(c), end, passwordRejected: (e) => AUTH_FAILED.has((e as { code?: string }).code ?? '') },
      this.passwords,
      connectBounds(props).waitMs,
    );
  }

  get statements(): number {
    return this.count;
  }

  /** Password fetches so far (the secret is fetched on the first connect and after auth failures only). */
  get passwordFetches(): number {
    return this.passwords.fetches;
  }

  private async connect(): Promise<Client> {
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
    c.on('error', () => this.connection.drop(c));
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

  private async exec<R extends object>(sql: string, params: unknown[] = []): Promise<QueryResult<R & QueryResultRow>> {
    const c = await this.connection.get();
    this.count++;
    try {
      return await c.query<R & QueryResultRow>(sql, params);
    } catch (e) {
      this.connection.drop(c);
      throw e;
    }
  }

  private async query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.exec<R>(sql, params)).rows;
  }

  private beatParams(beat: Beat): unknown[] {
    return [this.props.cluster, this.props.node, beat.role, beat.term, this.props.version];
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
    await this.query(`INSERT INTO ${LEASE} (cluster) VALUES ($1) ON CONFLICT (cluster) DO NOTHING`, [this.props.cluster]);
  }

  async poll(beat: Beat, leaseSecs: number, tryAcquire: boolean): Promise<AcquireResult> {
    const rows = await this.query<LeaseRow & { acquired: boolean }>(POLL_SQL, [...this.beatParams(beat), leaseSecs, tryAcquire]);
    if (rows.length !== 1) throw new Error(`no lease row for cluster ${this.props.cluster}; run init-db`);
    return { acquired: rows[0].acquired, lease: leaseView(rows[0]) };
  }

  async renew(term: number, beat: Beat, leaseSecs: number): Promise<RenewResult> {
    const rows = await this.query<LeaseRow>(RENEW_SQL, [...this.beatParams({ ...beat, term }), leaseSecs]);
    return rows.length === 1 ? { renewed: true, lease: leaseView(rows[0]) } : { renewed: false };
  }

  async release(term: number): Promise<boolean> {
    return (await this.exec(RELEASE_SQL, [this.props.cluster, this.props.node, term])).rowCount === 1;
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
    await this.query(`INSERT INTO ${EVENTS} (cluster, node, event, term, detail) VALUES ($1, $2, $3, $4, $5)`, [
      this.props.cluster,
      this.props.node,
      event,
      term,
      detail ?? null,
    ]);
  }

  async status(eventLimit = 10): Promise<ClusterStatus> {
    const [lease] = await this.query<LeaseRow>(`SELECT holder, term, ${REMAINING} AS remaining_ms, maintenance FROM ${LEASE} WHERE cluster = $1`, [
      this.props.cluster,
    ]);
    if (!lease) throw new Error(`no lease row for cluster ${this.props.cluster}; run init-db`);
    const members = await this.query<{ node: string; role: string; term: string; ago: string; version: string }>(
      `SELECT node, role, term, EXTRACT(EPOCH FROM (clock_timestamp() - last_seen)) * 1000 AS ago, version
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
      members: members.map((m) => ({ node: m.node, role: m.role, term: Number(m.term), lastSeenMsAgo: Math.round(Number(m.ago)), version: m.version })),
      events: events.map((e) => ({ at: e.at.toISOString(), node: e.node, event: e.event, term: Number(e.term), detail: e.detail })),
    };
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
