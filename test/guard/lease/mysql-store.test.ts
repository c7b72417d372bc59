import { lockWaitSecs, lockWaitSettings, MysqlLeaseStore, MYSQL_POLL_SQL, MYSQL_RENEW_SQL } from '../../../lib/guard/lease/mysql-store';
import * as mysql from 'mysql2/promise';
import { startMariadb, type TestMariadb } from '../../harness/mariadb';
import type { Log } from '../../../lib/guard/log';
import { randomBytes } from 'crypto';
import * as net from 'net';

// The protocol itself runs against a real MariaDB in lease-store.test.ts and failover.test.ts;
// ssl-mode's mapping is in database-url.test.ts.
describe('MysqlLeaseStore', () => {
  it('refuses a URL it cannot use, naming database.url', () => {
    expect(() => new MysqlLeaseStore({ url: 'mysql://h/db', cluster: 'c', node: 'n', version: '0', queryTimeoutSecs: 1 })).toThrow(/^database\.url: .*user/);
  });

  it('uses only the database clock and no session locks', () => {
    for (const sql of [MYSQL_POLL_SQL, MYSQL_RENEW_SQL]) {
      expect(sql).toContain('NOW(6)');
      expect(sql).not.toMatch(/GET_LOCK|UTC_TIMESTAMP|SYSDATE|TEMPORARY/i);
    }
  });
});

describe('MysqlLeaseStore over TLS (managed-like MariaDB: private CA, require_secure_transport)', () => {
  let db: TestMariadb;
  const stores: MysqlLeaseStore[] = [];

  beforeAll(async () => {
    db = await startMariadb();
  }, 60000);

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db?.close();
  });

  function store(query: string): MysqlLeaseStore {
    const s = new MysqlLeaseStore({ url: db.url.split('?')[0] + query, cluster: 'tls', node: 'a', version: '0', queryTimeoutSecs: 2, password: async () => db.password });
    stores.push(s);
    return s;
  }

  it('connects with ssl-mode=REQUIRED (as the constructs emit) and with VERIFY_CA against the right CA', async () => {
    await expect(store('?ssl-mode=REQUIRED').init()).resolves.toBeUndefined();
    await expect(store(`?ssl-mode=VERIFY_CA&ssl-ca=${db.caFile}`).status()).resolves.toMatchObject({ cluster: 'tls' });
  });

  it('does not connect without TLS, nor with VERIFY_CA against the system CAs', async () => {
    await expect(store('?ssl-mode=DISABLED').status()).rejects.toThrow(/Access denied|insecure transport/); // MariaDB answers a clear-text login under require_secure_transport with 'Access denied'
    await expect(store('?ssl-mode=VERIFY_CA').status()).rejects.toThrow(/certificate/i);
  });

  it('a renew UPDATE behind a row lock gives up within the lock wait bound and never commits later', async () => {
    // given: a leader with Q = 0.5 s, and another transaction holding its lease row
    const a = new MysqlLeaseStore({ url: db.url, cluster: 'l3', node: 'a', version: '0', queryTimeoutSecs: 0.5, password: async () => db.password });
    stores.push(a);
    await a.init();
    const { lease } = await a.poll({ role: 'passive', term: 0 }, 6, true);
    const locker = await mysql.createConnection({ socketPath: db.socket, user: 'root', database: 'guard' });
    await locker.query('BEGIN');
    const [[before]] = (await locker.query(`SELECT expires_at FROM failover_guard_lease WHERE cluster = 'l3' FOR UPDATE`)) as unknown as [[{ expires_at: Date }]];
    // when: the renew times out at Q (the client drops its connection), and the lock is held
    // past the session's lock wait bound (lockWaitSecs(0.5) = 1 s), then released
    const t0 = Date.now();
    const renew = await a.renew(lease.term, { role: 'active', term: lease.term }, 60).catch((e: Error) => e);
    const ms = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 2500));
    await locker.query('ROLLBACK');
    await new Promise((r) => setTimeout(r, 500));
    const [[after]] = (await locker.query(`SELECT expires_at FROM failover_guard_lease WHERE cluster = 'l3'`)) as unknown as [[{ expires_at: Date }]];
    await locker.end();
    // then: the timed-out renew did not extend the lease once the lock was gone (before: the
    // UPDATE kept waiting for InnoDB's 50 s lock wait and committed when the lock went)
    expect(renew).toBeInstanceOf(Error);
    expect(ms).toBeLessThan(2000);
    expect(after.expires_at.getTime()).toBe(before.expires_at.getTime());
  }, 20000);

  it("MySQL's case (no max_statement_time): the lock wait bound alone keeps a timed-out UPDATE from committing later", async () => {
    // MySQL 8 cannot run here; its max_execution_time does not cover UPDATE, so the UPDATE is
    // bounded by the lock wait settings alone. A session with just those (no max_statement_time)
    // stands for it; InnoDB's default (50 s) is the control that shows what they prevent.
    const owner = new MysqlLeaseStore({ url: db.url, cluster: 'l3m', node: 'a', version: '0', queryTimeoutSecs: 1, password: async () => db.password });
    stores.push(owner);
    await owner.init();
    async function lateCommit(settings: string): Promise<boolean> {
      const guard = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'guard', password: db.password, database: 'guard', ssl: { rejectUnauthorized: false } });
      await guard.query(`SET SESSION ${settings}`);
      const locker = await mysql.createConnection({ socketPath: db.socket, user: 'root', database: 'guard' });
      await locker.query(`UPDATE failover_guard_lease SET holder = 'x', expires_at = NOW(6) WHERE cluster = 'l3m'`);
      await locker.query('BEGIN');
      await locker.query(`SELECT * FROM failover_guard_lease WHERE cluster = 'l3m' FOR UPDATE`);
      // the client gives up at Q = 0.5 s and drops the connection, as the store does
      const renew = await guard.query({ sql: `UPDATE failover_guard_lease SET holder = 'late' WHERE cluster = 'l3m'`, timeout: 500 }).catch((e: Error) => e);
      expect(renew).toBeInstanceOf(Error);
      await new Promise((r) => setTimeout(r, 2500));
      await locker.query('ROLLBACK');
      await new Promise((r) => setTimeout(r, 500));
      const [[row]] = (await locker.query(`SELECT holder FROM failover_guard_lease WHERE cluster = 'l3m'`)) as unknown as [[{ holder: string }]];
      await locker.end();
      guard.destroy();
      return row.holder === 'late';
    }
    expect(await lateCommit('innodb_lock_wait_timeout = 50, lock_wait_timeout = 31536000')).toBe(true);
    expect(await lateCommit(lockWaitSettings(0.5))).toBe(false);
  }, 20000);

  it('bounds lock waits by Q in whole seconds', () => {
    expect([lockWaitSecs(0.2), lockWaitSecs(1.2), lockWaitSecs(2), lockWaitSecs(5.9)]).toEqual([1, 1, 2, 5]);
  });

  it('gives up on a statement after the query timeout Q and reconnects for the next one', async () => {
    // given: the lease row is locked by another transaction
    const a = new MysqlLeaseStore({ url: db.url.split('?')[0] + '?ssl-mode=REQUIRED', cluster: 'tls', node: 'a', version: '0', queryTimeoutSecs: 0.5, password: async () => db.password });
    stores.push(a);
    await a.init();
    const { lease } = await a.poll({ role: 'passive', term: 0 }, 6, true);
    const locker = await mysql.createConnection({ socketPath: db.socket, user: 'root', database: 'guard' });
    await locker.query('BEGIN');
    await locker.query(`SELECT * FROM failover_guard_lease WHERE cluster = 'tls' FOR UPDATE`);
    // when
    const t0 = Date.now();
    const blocked = await a.renew(lease.term, { role: 'active', term: lease.term }, 6).catch((e: Error) => e);
    const ms = Date.now() - t0;
    await locker.query('ROLLBACK');
    await locker.end();
    // then: failed near Q, not after InnoDB's 50 s lock wait; the next renew works
    expect(blocked).toBeInstanceOf(Error);
    expect(ms).toBeLessThan(2000);
    expect((await a.renew(lease.term, { role: 'active', term: lease.term }, 6)).renewed).toBe(true);
  });
});

describe('database-side fencing on MariaDB (managed-like: the guard user has RDS master grants, no SUPER)', () => {
  // App sessions come from 127.0.0.2 ("another node", mysql2's localAddress) and 127.0.0.1
  // (this node, where the guard connects from); root only sets up users and grants, as the
  // cloud's administrator does.
  let db: TestMariadb;
  const closers: (() => Promise<unknown>)[] = [];
  const appPw = randomBytes(12).toString('hex');

  beforeAll(async () => {
    db = await startMariadb();
    await db.superuser.sql(`CREATE USER 'fence_app'@'127.0.0.%' IDENTIFIED BY '${appPw}'`);
    await db.superuser.sql(`GRANT SELECT ON guard.* TO 'fence_app'@'127.0.0.%'`);
  }, 60000);

  afterAll(async () => {
    for (const c of closers) await c().catch(() => undefined);
    await db?.close();
  });

  async function appSession(from: string): Promise<mysql.Connection> {
    // mysql2 ignores localAddress: the socket is made here, bound to `from`
    const stream = net.connect({ host: '127.0.0.1', port: db.port, localAddress: from });
    const c = await mysql.createConnection({ stream, user: 'fence_app', password: appPw, database: 'guard', ssl: { rejectUnauthorized: false } });
    c.on('error', () => undefined);
    closers.push(() => c.end());
    return c;
  }

  const alive = (c: mysql.Connection) => c.query('SELECT 1').then(
    () => true,
    () => false,
  );

  function fencingStore(cluster: string, log: Log): MysqlLeaseStore {
    const s = new MysqlLeaseStore({ url: db.url, cluster, node: 'n1', version: '0', queryTimeoutSecs: 2, password: async () => db.password, appUser: 'fence_app', log });
    closers.push(() => s.close());
    return s;
  }

  async function acquire(s: MysqlLeaseStore): Promise<void> {
    await s.init();
    expect((await s.poll({ role: 'passive', term: 0 }, 30, true)).acquired).toBe(true);
  }

  async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await check()) return true;
    return check();
  }

  it("with RDS's master grants (PROCESS, no CONNECTION ADMIN, no mysql.rds_kill here): warns once, takes the lease, leaves the sessions", async () => {
    const other = await appSession('127.0.0.2');
    const log = recordingLog();
    await acquire(fencingStore('f1', log));
    expect(await eventually(async () => log.lines.some((l) => l.level === 'warn' && /database-side fencing/.test(l.msg)))).toBe(true);
    expect(await alive(other)).toBe(true);
  });

  it("with PROCESS and CONNECTION ADMIN: ends other hosts' app sessions on acquire, keeps this node's", async () => {
    // what the guard user needs beyond RDS's master grants (on RDS: mysql.rds_kill instead)
    await db.superuser.sql(`GRANT CONNECTION ADMIN ON *.* TO 'guard'@'%'`);
    const other = await appSession('127.0.0.2');
    const own = await appSession('127.0.0.1');
    const log = recordingLog();
    await acquire(fencingStore('f2', log));
    expect(await eventually(async () => !(await alive(other)))).toBe(true);
    expect(await alive(own)).toBe(true);
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });
});

function recordingLog(): Log & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: object, msg: string) => void lines.push({ level, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
