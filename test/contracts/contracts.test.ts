import { databaseKind, databaseUrlProblem, parseMysqlUrl, parsePostgresUrl } from '../../lib/guard/lease/database-url';
import { loadGuardConfig } from '../../lib/guard/config';
import { parseClusterSpec, type ClusterSpec } from '../../lib/spec/cluster-spec';
import { DEFAULT_DATABASE_PORT, databaseUrl, urlHasPassword } from '../../lib/contracts/database-url';
import { DEFAULT_GUARD_PORT, GUARD_HEALTH_PATH, GUARD_LIVE_PATH, GUARD_METRICS_PATH, GUARD_STEP_DOWN_PATH } from '../../lib/contracts/guard-endpoints';
import { GUARD_KEYS, guardSettings, renderProperties } from '../../lib/contracts/guard-settings';
import { papercut } from '../../lib/spec/papercut';
import { CLUSTER_TAG, clusterTags } from '../../lib/spec/tags';
import { specTimingPaths, TIMING_KEY_NAMES } from '../../lib/contracts/timing-names';

// Each contract is defined once in lib/spec; these tests check that both sides of it (the
// constructs that write a value, the guard that reads it) agree, through the real code paths.

const spec = (extra: Record<string, unknown> = {}): ClusterSpec => parseClusterSpec({ name: 'pc', profile: papercut(), ...extra });
const DB = { url: 'postgres://pc@db.internal:5432/pc?sslmode=require', passwordSource: 'env:PW' };

/** The guard's config as the boot script writes it for this spec, read back by the guard. */
function guardReads(s: ClusterSpec, edit: (text: string) => string = (t) => t) {
  const r = loadGuardConfig(edit(renderProperties(guardSettings(s, DB))), {}, 'host');
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return r.config;
}

describe('guard endpoints and port', () => {
  it('the spec and the guard default to the same port, and the guard reads the port the spec sets', () => {
    expect(spec().guard.port).toBe(DEFAULT_GUARD_PORT);
    // a config without health.port: the guard's own default
    expect(guardReads(spec(), (t) => t.replace(/^health\.port=.*\n/m, '')).healthPort).toBe(DEFAULT_GUARD_PORT);
    expect(guardReads(spec({ guard: { port: 9280 } })).healthPort).toBe(9280);
  });

  it('are four distinct absolute paths (a shared value would make the load balancer probe the wrong one)', () => {
    const paths = [GUARD_HEALTH_PATH, GUARD_LIVE_PATH, GUARD_METRICS_PATH, GUARD_STEP_DOWN_PATH];
    expect(new Set(paths).size).toBe(4);
    for (const p of paths) expect(p).toMatch(/^\/[a-z-]+$/);
  });
});

describe('database URL', () => {
  it.each([
    ['postgres', 'papercut', 'db.example.com', 5432, 'papercut', undefined, 'postgres://papercut@db.example.com:5432/papercut?sslmode=verify-full'],
    ['postgres', 'papercut', 'db.example.com', 5432, 'papercut', 'rds', 'postgres://papercut@db.example.com:5432/papercut?sslmode=verify-full&sslrootcert=rds'],
    ['mysql', 'app user', 'db.example.com', 3306, 'pc', 'azure', 'mysql://app%20user@db.example.com:3306/pc?ssl-mode=VERIFY_IDENTITY&ssl-ca=azure'],
  ] as const)('%s: TLS verified (CA %s), the user encoded, no password', (engine, user, host, port, name, ca, expected) => {
    const url = databaseUrl(engine, user, host, port, name, ca);
    expect(url).toBe(expected);
    expect(urlHasPassword(url)).toBe(false);
  });

  it('is read back by the guard as written: engine, user, host, port, database and TLS', () => {
    const pg = databaseUrl('postgres', 'pc', 'db.internal', DEFAULT_DATABASE_PORT.postgres, 'pc', 'rds');
    expect(databaseKind(pg)).toBe('postgres');
    expect(databaseUrlProblem(pg)).toBeUndefined();
    expect(parsePostgresUrl(pg)).toMatchObject({ ok: true, target: { host: 'db.internal', port: 5432, user: 'pc', database: 'pc', tls: { mode: 'verify-full', ca: { kind: 'rds' } } } });
    const my = databaseUrl('mysql', 'app user', 'db.internal', DEFAULT_DATABASE_PORT.mysql, 'pc', 'azure');
    expect(databaseUrlProblem(my)).toBeUndefined();
    expect(parseMysqlUrl(my)).toMatchObject({ ok: true, target: { host: 'db.internal', port: 3306, user: 'app user', database: 'pc', sslMode: 'VERIFY_IDENTITY', sslCaFile: 'azure', tls: { mode: 'verify-full', ca: { kind: 'azure' } } } });
  });

  it('urlHasPassword finds user:password@ and nothing else', () => {
    expect(urlHasPassword('postgres://u:secret@h/db')).toBe(true);
    expect(urlHasPassword('mysql://u:@h/db')).toBe(true);
    expect(urlHasPassword('postgres://u@h:5432/db')).toBe(false);
    expect(urlHasPassword('postgres://h:5432/db?x=a:b@c')).toBe(false);
  });

  it('the guard settings refuse a URL with a password', () => {
    expect(() => guardSettings(spec(), { ...DB, url: 'postgres://pc:pw@h/db' })).toThrow('database.url must not contain a password');
  });
});

describe('cluster tags', () => {
  it('the spec tags first, then the cluster tag, which a user tag cannot replace', () => {
    const tags = clusterTags({ name: 'pc', tags: { team: 'print', [CLUSTER_TAG]: 'other' } });
    expect(tags).toEqual({ team: 'print', 'failover-cluster': 'pc' });
    expect(Object.keys(clusterTags({ name: 'pc', tags: { b: '1', a: '2' } }))).toEqual(['b', 'a', 'failover-cluster']);
  });
});

describe('timing names', () => {
  const timings = ['failOverIntervalSecs', 'startupTimeoutSecs', 'renewPeriodSecs', 'queryTimeoutSecs', 'renewDeadlineSecs', 'stopTimeoutSecs'] as const;
  const at = (obj: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);

  it('every spec path names a field of the parsed spec, with or without the construct prop prefix', () => {
    const s = spec();
    for (const [prefix, root] of [['', s], ['spec.', { spec: s }]] as const) {
      const names = specTimingPaths(prefix);
      expect(Object.keys(names).sort()).toEqual([...timings, 'healthCheck', 'serviceMode'].sort());
      for (const path of Object.values(names)) expect(at(root, path)).toBeDefined();
    }
  });

  it('a broken invariant is reported under the spec path, and by the guard under the config key', () => {
    const guard = { failOverIntervalSecs: 30, renewDeadlineSecs: 26, stopTimeoutSecs: 3 };
    expect(() => spec({ guard })).toThrow(specTimingPaths().renewDeadlineSecs);
    const ok = spec();
    const text = renderProperties(guardSettings(ok, DB)).replace(/renew-deadline-secs=.*/, 'renew-deadline-secs=26');
    const r = loadGuardConfig(text, {}, 'host');
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toContain(TIMING_KEY_NAMES.renewDeadlineSecs);
  });

  it('every config key name is a key of the guard config contract', () => {
    const keys = new Set<string>(Object.values(GUARD_KEYS));
    for (const name of Object.values(TIMING_KEY_NAMES)) expect(keys.has(name)).toBe(true);
  });
});
