/**
 * The guard against servers as the clouds hand them over: TLS only, a certificate from a private
 * CA that is not in Node's store. Its lease store and its hooks' sessions (both drivers) must
 * verify with the CA named in the URL, say in one line what to set when they cannot, and never
 * talk in clear text.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { createLeaseStore } from '../../../lib/guard/daemon';
import { openSession } from '../../../lib/guard/lease/sql-session';
import { DATABASES, type TestDatabase } from '../../harness/database';
import { makeTestCa } from '../../harness/tls';

describe.each(DATABASES)('guard over TLS to a managed-like $name', (fixture) => {
  let db: TestDatabase;
  let dir: string;
  let wrongCa: string;
  const pg = fixture.name === 'PostgreSQL';

  beforeAll(async () => {
    db = await fixture.start();
    dir = mkdtempSync(join(tmpdir(), 'guard-tls-'));
    wrongCa = makeTestCa(join(dir, 'other'), 'some other CA').ca;
  }, 60000);

  afterAll(async () => {
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The master's URL with these TLS parameters instead of the harness's. */
  const url = (query: string) => db.url.split('?')[0] + (query ? `?${query}` : '');
  const q = {
    verifyFull: (ca?: string) => (pg ? `sslmode=verify-full${ca ? `&sslrootcert=${ca}` : ''}` : `ssl-mode=VERIFY_IDENTITY${ca ? `&ssl-ca=${ca}` : ''}`),
    require: pg ? 'sslmode=require' : 'ssl-mode=REQUIRED',
    // clear text on purpose: the tests below show the managed-like server refuses it
    disable: pg ? 'sslmode=disable' : 'ssl-mode=DISABLED',
  };

  async function statusVia(u: string): Promise<unknown> {
    const s = createLeaseStore({ url: u, cluster: 'tls', node: 'a', version: '0', queryTimeoutSecs: 2, password: async () => db.password });
    try {
      await s.init();
      return await s.status();
    } finally {
      await s.close();
    }
  }

  async function sessionVia(u: string): Promise<unknown> {
    const s = await openSession({ url: u, password: db.password, application: 'tls-test', timeoutSecs: 5 });
    try {
      return (await s.query('SELECT 1 AS one')).rows[0];
    } finally {
      await s.close();
    }
  }

  it('verify-full with the CA in sslrootcert / ssl-ca connects (lease store and hook session)', async () => {
    await expect(statusVia(url(q.verifyFull(db.caFile)))).resolves.toMatchObject({ cluster: 'tls' });
    await expect(sessionVia(url(q.verifyFull(db.caFile)))).resolves.toMatchObject({ one: 1 });
  });

  it('require is encrypted without verification, as libpq and the mysql client mean it', async () => {
    await expect(statusVia(url(q.require))).resolves.toMatchObject({ cluster: 'tls' });
    await expect(sessionVia(url(q.require))).resolves.toMatchObject({ one: 1 });
  });

  it("without the CA (Node's roots) it refuses, in one line naming the host, the mode, the CA source and what to set", async () => {
    const key = pg ? 'sslrootcert' : 'ssl-ca';
    const expected = new RegExp(
      `^TLS: the database server 127\\.0\\.0\\.1 presented a certificate that did not verify \\(\\w+: [^\\n]*\\) with ${pg ? 'sslmode=verify-full' : 'ssl-mode=VERIFY_IDENTITY'}( \\(the default\\))? against Node's built-in root CAs; set ${key}=<PEM file`,
    );
    await expect(statusVia(url(q.verifyFull()))).rejects.toThrow(expected);
    await expect(sessionVia(url(q.verifyFull()))).rejects.toThrow(expected);
    // the default (no sslmode at all) verifies too
    await expect(statusVia(url(''))).rejects.toThrow(expected);
  });

  it('a wrong CA file is named in the one-line message', async () => {
    const err = await statusVia(url(q.verifyFull(wrongCa))).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(new RegExp(`^TLS: the database server 127\\.0\\.0\\.1 .* against the CA file ${wrongCa.replace(/[.]/g, '\\.')}; set `));
    expect(String((err as Error).message)).not.toContain('\n');
  });

  it('never in clear text: the server refuses a connect without TLS', async () => {
    const refused = pg ? /no pg_hba\.conf entry .*no encryption/ : /Access denied|insecure transport/;
    await expect(statusVia(url(q.disable))).rejects.toThrow(refused);
    await expect(sessionVia(url(q.disable))).rejects.toThrow(refused);
  });
});

describe('the managed-like harness itself', () => {
  it('refuses an opt-out without a reason', async () => {
    const { startPostgres } = await import('../../harness/postgres');
    const { startMariadb } = await import('../../harness/mariadb');
    await expect(startPostgres({ plainSuperuser: ' ' })).rejects.toThrow(/plainSuperuser needs the reason/);
    await expect(startMariadb({ plainSuperuser: '' })).rejects.toThrow(/plainSuperuser needs the reason/);
  });

  it('PostgreSQL 15 (the pre-16 role rules) as the clouds hand it over: TLS only, master LOGIN CREATEROLE CREATEDB, no superuser', async () => {
    const { startPostgres } = await import('../../harness/postgres');
    const db = await startPostgres({ version: 15 });
    try {
      const [me] = await db.sql(`SELECT current_setting('server_version_num')::int / 10000 AS major, rolsuper, rolcreaterole, rolcreatedb, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl FROM pg_roles WHERE rolname = current_user`);
      expect(me).toEqual({ major: 15, rolsuper: false, rolcreaterole: true, rolcreatedb: true, ssl: true });
      expect(db.url).toMatch(/\?sslmode=verify-full&sslrootcert=\//);
    } finally {
      await db.close();
    }
  }, 60000);

  it('MariaDB: the master has RDS grants, not SUPER', async () => {
    const { startMariadb } = await import('../../harness/mariadb');
    const db = await startMariadb();
    try {
      const grants = Object.values((await db.sql('SHOW GRANTS'))[0]).join(' ');
      expect(grants).toMatch(/CREATE USER.* ON \*\.\* TO `guard`@`%`.*WITH GRANT OPTION/);
      expect(grants).not.toMatch(/SUPER|ALL PRIVILEGES|CONNECTION ADMIN/);
    } finally {
      await db.close();
    }
  }, 60000);
});
