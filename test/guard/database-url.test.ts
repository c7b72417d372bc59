import { databaseKind, databaseUrlProblem, parseMysqlUrl } from '../../lib/guard/database-url';

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
    const r = parseMysqlUrl('mysql://guard@db.example.internal:3306/papercut?ssl-mode=REQUIRED');
    // then
    expect(r).toEqual({ ok: true, target: { host: 'db.example.internal', port: 3306, user: 'guard', database: 'papercut', sslMode: 'REQUIRED', sslCaFile: undefined } });
  });

  it('defaults to port 3306 and no TLS; decodes the user; takes a CA file for VERIFY_*', () => {
    expect(parseMysqlUrl('mariadb://app%40x@10.0.0.1/db')).toMatchObject({ ok: true, target: { user: 'app@x', port: 3306, sslMode: 'DISABLED' } });
    expect(parseMysqlUrl('mysql://u@h/db?ssl-mode=verify_identity&ssl-ca=/etc/ca.pem')).toMatchObject({
      ok: true,
      target: { sslMode: 'VERIFY_IDENTITY', sslCaFile: '/etc/ca.pem' },
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

describe('databaseUrlProblem', () => {
  it('accepts both kinds and names what is wrong otherwise', () => {
    expect(databaseUrlProblem('postgresql://g@h:5432/db?sslmode=require')).toBeUndefined();
    expect(databaseUrlProblem('mysql://g@h:3306/db?ssl-mode=REQUIRED')).toBeUndefined();
    expect(databaseUrlProblem('oracle://g@h/db')).toMatch(/postgres:\/\/.*mysql:\/\//);
    expect(databaseUrlProblem('mysql://g@h/db?ssl-mode=maybe')).toMatch(/ssl-mode/);
  });
});
