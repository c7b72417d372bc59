/**
 * PaperCut's own JDBC connection keeps TLS and verifies it: the guard writes the CA bundle it
 * carries beside server.properties and names it in the JDBC URL. Checked with the real
 * PostgreSQL JDBC driver (Debian's libpq-compatible pgjdbc) against a managed-like server.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { JDBC_CA_FILE, papercutDatabaseProperties, writePapercutDatabaseConfig } from '../../../lib/guard/app/app-config';
import { startPostgres, type TestPostgres } from '../../harness/postgres';
import { makeTestCa } from '../../harness/tls';

const PGJDBC = '/usr/share/java/postgresql.jar';
const PROBE = join(__dirname, '..', '..', 'fixtures', 'jdbc', 'JdbcProbe.java');

function jdbcUrl(file: string): string {
  return /^database\.url=(.*)$/m.exec(readFileSync(file, 'utf8'))![1];
}

/** Runs the probe with pgjdbc; its stdout, or throws with stderr. */
function probe(url: string, user: string, password: string): string {
  for (const need of ['java', PGJDBC]) {
    if (need.startsWith('/') ? !existsSync(need) : spawnSync('java', ['-version']).error) throw new Error(`${need} is missing: sudo scripts/test-deps.sh installs default-jre-headless and libpostgresql-jdbc-java`);
  }
  const r = spawnSync('java', ['-cp', PGJDBC, PROBE, url, user, password], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`JDBC connect failed: ${r.stderr.split('\n').find((l) => /Exception/.test(l)) ?? r.stderr}`);
  return r.stdout.trim();
}

describe('PaperCut database.* keys: the JDBC URL per TLS mode', () => {
  it('PostgreSQL verify-full: the CA file is named in the URL (pgjdbc reads a PEM root file like libpq)', () => {
    const props = new Map(papercutDatabaseProperties('postgres://papercut_app@pc.x.eu-west-1.rds.amazonaws.com:5432/papercut_app?sslmode=verify-full&sslrootcert=rds', 'pw', 'C:\\Program Files\\PaperCut MF\\server\\ca.pem'));
    expect(props.get('database.url')).toBe('jdbc:postgresql://pc.x.eu-west-1.rds.amazonaws.com:5432/papercut_app?sslmode=verify-full&sslrootcert=C%3A%5CProgram%20Files%5CPaperCut%20MF%5Cserver%5Cca.pem');
    expect(() => papercutDatabaseProperties('postgres://a@h/d?sslmode=verify-full', 'pw')).toThrow(/CA file/);
    expect(new Map(papercutDatabaseProperties('postgres://a@h/d?sslmode=require', 'pw')).get('database.url')).toBe('jdbc:postgresql://h:5432/d?sslmode=require');
  });

  it('MySQL: Connector/J verifies against public roots (the JVM trust store), encrypts without verifying for the RDS bundle or a CA file', () => {
    const url = (q: string) => new Map(papercutDatabaseProperties(`mysql://a@h:3306/d?${q}`, 'pw')).get('database.url');
    expect(url('ssl-mode=VERIFY_IDENTITY&ssl-ca=azure')).toBe('jdbc:mysql://h:3306/d?sslMode=VERIFY_IDENTITY');
    expect(url('ssl-mode=VERIFY_IDENTITY&ssl-ca=rds')).toBe('jdbc:mysql://h:3306/d?sslMode=REQUIRED');
    expect(url('ssl-mode=VERIFY_CA&ssl-ca=/etc/ca.pem')).toBe('jdbc:mysql://h:3306/d?sslMode=REQUIRED');
    expect(url('ssl-mode=DISABLED')).toBe('jdbc:mysql://h:3306/d?sslMode=DISABLED');
  });
});

describe('PaperCut over JDBC to a managed-like PostgreSQL', () => {
  let db: TestPostgres;
  let dir: string;

  beforeAll(async () => {
    db = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'guard-jdbc-'));
  }, 60000);

  afterAll(async () => {
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the CA beside server.properties; pgjdbc connects with verify-full, encrypted; a second write changes nothing', async () => {
    // given
    const props = join(dir, 'server.properties');
    writeFileSync(props, 'server.port=9191\n');
    // when
    const wrote = await writePapercutDatabaseConfig(props, db.url, db.password);
    // then
    expect(wrote).toBe(true);
    const ca = join(dir, JDBC_CA_FILE);
    expect(readFileSync(ca, 'utf8')).toBe(readFileSync(db.caFile!, 'utf8').trim() + '\n');
    expect(statSync(ca).mode & 0o777).toBe(0o644);
    expect(jdbcUrl(props)).toBe(`jdbc:postgresql://127.0.0.1:${db.port}/guard?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`);
    expect(probe(jdbcUrl(props), 'guard', db.password)).toBe('ssl=true');
    await expect(writePapercutDatabaseConfig(props, db.url, db.password)).resolves.toBe(false);
  }, 90000);

  it('pgjdbc verifies: with another CA in the file it refuses', async () => {
    // given: the written CA file replaced by a CA that did not sign the server's certificate
    const sub = join(dir, 'wrong');
    const props = join(dir, 'wrong.properties');
    writeFileSync(props, '');
    await writePapercutDatabaseConfig(props, db.url, db.password);
    writeFileSync(join(dir, JDBC_CA_FILE), readFileSync(makeTestCa(sub, 'another CA').ca));
    // then
    expect(() => probe(jdbcUrl(props), 'guard', db.password)).toThrow(/JDBC connect failed: .*(PKIX|certif)/i);
  }, 90000);
});
