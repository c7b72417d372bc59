import { MysqlLeaseStore, MYSQL_POLL_SQL, MYSQL_RENEW_SQL } from '../../lib/guard/mysql-store';
import * as mysql from 'mysql2/promise';
import { startMariadb, type TestMariadb } from '../harness/mariadb';

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
