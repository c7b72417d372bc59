import { parseMysqlUrl } from '../../lib/guard/database-url';
import { MysqlLeaseStore, mysqlSsl, POLL_SQL, RENEW_SQL } from '../../lib/guard/mysql-store';

// The protocol itself runs against a real MariaDB in lease-store.test.ts and failover.test.ts.
function target(url: string) {
  const r = parseMysqlUrl(url);
  if (!r.ok) throw new Error(r.message);
  return r.target;
}

describe('mysqlSsl', () => {
  it('maps ssl-mode as the mysql client does', () => {
    const readFile = (p: string) => `PEM from ${p}`;
    expect(mysqlSsl(target('mysql://u@h/db'), readFile)).toBeUndefined();
    expect(mysqlSsl(target('mysql://u@h/db?ssl-mode=DISABLED'), readFile)).toBeUndefined();
    expect(mysqlSsl(target('mysql://u@h/db?ssl-mode=REQUIRED'), readFile)).toEqual({ rejectUnauthorized: false });
    expect(mysqlSsl(target('mysql://u@h/db?ssl-mode=VERIFY_CA&ssl-ca=/ca.pem'), readFile)).toEqual({ ca: 'PEM from /ca.pem', rejectUnauthorized: true, verifyIdentity: false });
    expect(mysqlSsl(target('mysql://u@h/db?ssl-mode=VERIFY_IDENTITY'), readFile)).toEqual({ ca: undefined, rejectUnauthorized: true, verifyIdentity: true });
  });
});

describe('MysqlLeaseStore', () => {
  it('refuses a URL it cannot use, naming database.url', () => {
    expect(() => new MysqlLeaseStore({ url: 'mysql://h/db', cluster: 'c', node: 'n', version: '0', queryTimeoutSecs: 1 })).toThrow(/^database\.url: .*user/);
  });

  it('uses only the database clock and no session locks', () => {
    for (const sql of [POLL_SQL, RENEW_SQL]) {
      expect(sql).toContain('NOW(6)');
      expect(sql).not.toMatch(/GET_LOCK|UTC_TIMESTAMP|SYSDATE|TEMPORARY/i);
    }
  });
});
