import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { daemonConfigFile, EXIT_CONFIG, EXIT_OK, formatStatus, main } from '../../lib/guard/cli';

const dir = mkdtempSync(join(tmpdir(), 'guard-cli-'));
const good = [
  'cluster.name=print',
  'node.id=a',
  'database.url=postgres://guard@127.0.0.1:5432/guard',
  'high-availability-guard.fail-over-interval-secs=6',
  'service.stop-timeout-secs=2',
  'service.command=node app.js',
];

async function run(lines: string[], ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const file = join(dir, `g${Math.random().toString(36).slice(2)}.properties`);
  writeFileSync(file, lines.join('\n') + '\n');
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--config', file], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out, err };
}

describe('failover-guard CLI', () => {
  it('validate prints the resolved timings and exits 0', async () => {
    const r = await run(good, 'validate');
    expect(r.code).toBe(EXIT_OK);
    expect(r.out.join('\n')).toContain('L=6s R=1s Q=0.4s D=3s stop=2s');
  });

  it.each([
    ['Q ≤ R', 'high-availability-guard.renew-period-secs=0.5\nhigh-availability-guard.query-timeout-secs=0.6', 'high-availability-guard.query-timeout-secs'],
    ['1.1·R + 2Q ≤ D', 'high-availability-guard.renew-deadline-secs=1.5', 'high-availability-guard.renew-deadline-secs'],
    ['L − D ≥ K + M', 'high-availability-guard.renew-deadline-secs=3.5', 'high-availability-guard.renew-deadline-secs'],
    [
      'L − D ≥ (U − H + 1)·I + T',
      'load-balancer.interval-secs=5\nload-balancer.timeout-secs=2\nload-balancer.healthy-threshold=2\nload-balancer.unhealthy-threshold=3',
      'load-balancer.interval-secs',
    ],
  ])('validate exits 2 naming the key when %s is violated', async (_inv, line, key) => {
    // given
    const lines = [...good.filter((l) => !l.startsWith(line.split('=')[0] + '=')), line];
    // when
    const r = await run(lines, 'validate');
    // then
    expect(r.code).toBe(EXIT_CONFIG);
    expect(r.err).toHaveLength(1);
    expect(r.err[0].startsWith(`${key}: `)).toBe(true);
  });

  it('prints one line per problem', async () => {
    const r = await run([...good, 'bogus.key=1', 'health.port=x'], 'validate');
    expect(r.code).toBe(EXIT_CONFIG);
    expect(r.err).toEqual(['bogus.key: unknown key', expect.stringMatching(/^health\.port: /)]);
  });

  it('exits 2 on bad usage and 0 for --version', async () => {
    expect((await run(good, 'maintenance', 'maybe')).code).toBe(EXIT_CONFIG);
    expect((await run(good, 'no-such-command')).code).toBe(EXIT_CONFIG);
    const v = await run(good, '--version');
    expect(v.code).toBe(EXIT_OK);
    expect(v.out[0]).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each(['validate', 'run', 'init-db', 'status', 'maintenance on'])('%s: a database.url of another database exits 2 naming the key', async (cmd) => {
    // given
    const lines = [...good.filter((l) => !l.startsWith('database.url')), 'database.url=sqlserver://guard@127.0.0.1:1433/guard'];
    // when
    const r = await run(lines, ...cmd.split(' '));
    // then
    expect(r.code).toBe(EXIT_CONFIG);
    expect(r.err).toEqual([expect.stringMatching(/^database\.url: must start with postgres:\/\/, postgresql:\/\/, mysql:\/\/ or mariadb:\/\//)]);
  });

  it('status on a mysql:// URL goes to the MySQL store (exit 1 when unreachable)', async () => {
    // given: a closed loopback port
    const lines = [...good.filter((l) => !l.startsWith('database.url')), 'database.url=mysql://guard@127.0.0.1:1/guard?ssl-mode=REQUIRED'];
    // when
    const r = await run(lines, 'status');
    // then
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/^error: .*ECONNREFUSED/);
  });

  it('exits 1 when the database cannot be reached', async () => {
    // given: a closed loopback port
    const lines = [...good.filter((l) => !l.startsWith('database.url')), 'database.url=postgres://guard@127.0.0.1:1/guard'];
    const r = await run(lines, 'status');
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/^error: /);
  });

  it('formats status with the active node, members and events', () => {
    const lines = formatStatus({
      cluster: 'print',
      lease: { holder: 'a', term: 3, remainingMs: 4200, maintenance: false },
      members: [{ node: 'a', role: 'active', term: 3, lastSeenMsAgo: 300, version: '0.1.0' }],
      events: [{ at: '2026-01-01T00:00:00.000Z', node: 'a', event: 'became-active', term: 3, detail: null }],
    });
    expect(lines[1]).toBe('active: a (term 3, lease 4.2s left)');
    expect(lines[3]).toMatch(/^ {2}a +active +term 3 +seen 0\.3s ago {2}v0\.1\.0$/);
    expect(lines[5]).toMatch(/became-active +term 3$/);
  });
});

describe('status of a duplicate node id', () => {
  it('names the holder instance and both processes under one node id', () => {
    const lines = formatStatus({
      cluster: 'print',
      lease: { holder: 'a', holderInstance: '1f2e3d4c5b6a7988', term: 3, remainingMs: 4200, maintenance: false },
      members: [{ node: 'a', instance: '00aa11bb22cc33dd', role: 'passive', term: 3, lastSeenMsAgo: 300, version: '0.1.0', duplicate: { instance: '1f2e3d4c5b6a7988', seenMsAgo: 900 } }],
      events: [],
    });
    expect(lines[1]).toBe('active: a (instance 1f2e3d4c5b6a7988) (term 3, lease 4.2s left)');
    expect(lines[4]).toBe('    DUPLICATE NODE ID: instances 00aa11bb22cc33dd and 1f2e3d4c5b6a7988 both beat under a (reported 0.9s ago)');
  });

  it('status --json runs against a real database and carries the duplicate', async () => {
    // given: two guard processes under node id "a" that have beaten alternately
    const { startPostgres } = await import('../harness/postgres');
    const { createLeaseStore } = await import('../../lib/guard/daemon');
    const db = await startPostgres();
    const stores = [0, 1].map(() => createLeaseStore({ url: db.url, cluster: 'print', node: 'a', version: '0', queryTimeoutSecs: 2, password: async () => db.password }));
    try {
      await stores[0].init();
      for (let i = 0; i < 3; i++) for (const s of stores) await s.poll({ role: 'passive', term: 0 }, 6, false);
      const pw = join(dir, 'pw');
      writeFileSync(pw, db.password, { mode: 0o600 });
      const lines = [...good.filter((l) => !l.startsWith('database.url')), `database.url=${db.url}`, `database.password-source=file:${pw}`];
      // when
      const r = await run(lines, 'status', '--json');
      // then
      expect(r.code).toBe(EXIT_OK);
      const st = JSON.parse(r.out.join('\n')) as { members: { node: string; duplicate?: { instance: string } }[] };
      expect(st.members[0].duplicate?.instance).toMatch(new RegExp(`^(${stores.map((s) => s.instance).join('|')})$`));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await db.close();
    }
  }, 60000);
});

describe('daemonConfigFile (run without commander)', () => {
  it('takes the plain run command lines and leaves everything else to commander', () => {
    expect(daemonConfigFile(['run'])).toBe('/etc/failover-guard/guard.properties');
    expect(daemonConfigFile(['run', '--config', '/x.properties'])).toBe('/x.properties');
    expect(daemonConfigFile(['run', '-c', 'x.properties'])).toBe('x.properties');
    expect(daemonConfigFile(['run', '--config=/y'])).toBe('/y');
    for (const argv of [[], ['status'], ['run', '--help'], ['run', '--config'], ['run', '--config='], ['run', '-c', '--help'], ['run', '--config', 'a', 'b'], ['--config', 'a', 'run']]) {
      expect(daemonConfigFile(argv)).toBeUndefined();
    }
  });

  it('run with a bad config exits 2 naming the problem, as through commander', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-run-'));
    const file = join(dir, 'guard.properties');
    writeFileSync(file, 'cluster.name=c\n');
    const err: string[] = [];
    const code = await main(['run', '--config', file], { out: () => undefined, err: (l) => err.push(l), env: {} });
    expect(code).toBe(EXIT_CONFIG);
    expect(err).toContain('database.url: is required (or set high-availability-guard.enabled=N)');
  });
});
