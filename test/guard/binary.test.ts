/**
 * The Linux single executable, built the way synth builds it (lib/synth/guard-build.ts, into the
 * test cache), runs on its own: version, config validation, and an election against a real
 * PostgreSQL. The first build fetches the pinned Node runtime with `npm pack`; later runs hit
 * the cache unless the guard's sources changed.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { guardBinary, SERVICE_HOST_PACKAGE } from '../../lib/synth/guard-build';
import { ActiveChecker, activeNodes, GuardNode } from '../harness/guard-cluster';
import { waitFor } from '../harness/wait';
import { TEST_GUARD_CACHE } from '../harness/guard-cache';
import { startPostgres, type TestPostgres } from '../harness/postgres';
import { Client } from 'pg';

jest.setTimeout(60000);

const ROOT = join(__dirname, '..', '..');
let BINARY: string;
const L = 6000;
const R = 1000;

function guard(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BINARY, args, { encoding: 'utf8', timeout: 20000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let root: string;
let pg: TestPostgres;
const checker = new ActiveChecker();
const nodes: GuardNode[] = [];
const extraNodes: GuardNode[] = [];

beforeAll(async () => {
  BINARY = guardBinary('linux-x64', { cacheDir: TEST_GUARD_CACHE });
  root = mkdtempSync(join(tmpdir(), 'guard-binary-'));
  pg = await startPostgres();
}, 300000);

afterAll(async () => {
  checker.stop();
  await Promise.all([...nodes, ...extraNodes].map((n) => n.kill()));
  await pg?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('failover-guard-linux-x64', () => {
  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(guard('--version')).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('validate: 0 on a good config, 2 naming the key on a bad one', () => {
    // given
    const good = ['cluster.name=print', 'node.id=a', `database.url=${pg.url}`, 'high-availability-guard.fail-over-interval-secs=6', 'service.stop-timeout-secs=2', 'service.command=node app.js'];
    const goodFile = join(root, 'good.properties');
    const badFile = join(root, 'bad.properties');
    writeFileSync(goodFile, good.join('\n') + '\n');
    writeFileSync(badFile, good.map((l) => (l.startsWith('high-availability-guard.') ? 'high-availability-guard.fail-over-interval-secs=3' : l)).join('\n') + '\n');
    // when
    const ok = guard('validate', '--config', goodFile);
    const bad = guard('validate', '--config', badFile);
    // then
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringContaining('L=6s') });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^high-availability-guard\.fail-over-interval-secs: must be ≥ 5$/m);
  });

  it('service-host writes the embedded WinSW (pinned bytes), its .config and the XML from the config, then leaves them alone', () => {
    // given
    const config = join(root, 'winsw.properties');
    writeFileSync(config, ['cluster.name=print', 'node.id=a', `database.url=${pg.url}`, 'service.mode=windows-service', 'service.name=PCAppServer', 'service.stop-timeout-secs=2'].join('\n') + '\n');
    const out = join(root, 'host', 'failover-guard-service.exe');
    // when
    const first = guard('--config', config, 'service-host', '--out', out);
    const second = guard('--config', config, 'service-host', '--out', out);
    // then
    expect(first).toMatchObject({ code: 0, stdout: `ok: wrote ${out} and its configuration\n` });
    expect(second).toMatchObject({ code: 0, stdout: `ok: ${out} is up to date\n` });
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(SERVICE_HOST_PACKAGE.winswSha256);
    expect(readFileSync(`${out}.config`, 'utf8')).toContain('<supportedRuntime version="v4.0" />');
    expect(readFileSync(join(root, 'host', 'failover-guard-service.xml'), 'utf8')).toContain(`<arguments>run --config "${config}"</arguments>`);
  });

  it('init-db on a managed-like PostgreSQL 17 (TLS only, private CA, verify-full, master without superuser): the guard tables, the app user and database; run becomes active', async () => {
    // given: the master the cloud hands over, and the app's own user over the same TLS
    const pw = join(root, 'app-password');
    writeFileSync(pw, 'app-Secret-1\n', { mode: 0o600 });
    const node = await GuardNode.create('init-0', 'init', BINARY, root, pg, {
      extra: [`app.database.url=${pg.userUrl('papercut_app', 'papercut_app')}`, `app.database.password-source=file:${pw}`],
    });
    // killed in afterAll if this test fails half-way; the election test below has its own nodes
    extraNodes.push(node);
    expect(pg.url).toMatch(/\?sslmode=verify-full&sslrootcert=/);
    expect((await pg.sql('SELECT rolsuper FROM pg_roles WHERE rolname = current_user'))[0]).toEqual({ rolsuper: false });
    // when
    const init = node.cli('init-db');
    // then
    expect({ code: init.code, stderr: init.stderr }).toEqual({ code: 0, stderr: '' });
    expect(init.stdout).toContain('ok: tables ready');
    expect(init.stdout).toMatch(/ok: app database: .*papercut_app/);
    const tables = await pg.sql(`SELECT tableowner FROM pg_tables WHERE tablename LIKE 'failover_guard%'`);
    expect(tables.length).toBeGreaterThanOrEqual(3);
    expect(new Set(tables.map((t) => t.tableowner))).toEqual(new Set(['guard']));
    const app = new Client({ ...pg.clientConfig, user: 'papercut_app', password: 'app-Secret-1', database: 'papercut_app' });
    await app.connect();
    try {
      expect((await app.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]).toEqual({ ssl: true });
    } finally {
      await app.end();
    }
    node.start();
    await waitFor('the node active', async () => (await activeNodes([node])).length === 1, 20000);
    await node.kill();
  });

  it('carries the Amazon RDS CA bundle (a chunk of its own) and says in one line what to set when the certificate does not verify', () => {
    // given: the harness's server, whose private CA is not in the RDS bundle
    const config = join(root, 'rds-ca.properties');
    writeFileSync(config, ['cluster.name=rds', 'node.id=a', `database.url=${pg.url.split('?')[0]}?sslmode=verify-full&sslrootcert=rds`, `database.password-source=${pg.passwordSource}`, 'service.command=true'].join('\n') + '\n');
    // when
    const r = guard('init-db', '--config', config);
    // then
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /TLS: the database server 127\.0\.0\.1 presented a certificate that did not verify \(\w+: .*\) with sslmode=verify-full against the Amazon RDS CA bundle carried by the guard; set sslrootcert=/,
    );
  });

  it('elects exactly one of two guards; when it is killed, the other takes over', async () => {
    // given
    for (const name of ['bin-0', 'bin-1']) nodes.push(await GuardNode.create(name, 'binary', BINARY, root, pg));
    checker.watch(nodes);
    checker.start();
    // when
    nodes.forEach((n) => n.start());
    await waitFor('exactly one active node', async () => (await activeNodes(nodes)).length === 1, 20000);
    const [first] = await activeNodes(nodes);
    const old = nodes.find((n) => n.name === first)!;
    const other = nodes.find((n) => n !== old)!;
    expect(old.appRunning()).toBe(true);
    expect(other.appRunning()).toBe(false);
    old.signalNode('SIGKILL');
    // then
    await waitFor('the other node active', async () => (await activeNodes([other])).length === 1, L + R + 2000);
    expect(other.appRunning()).toBe(true);
    expect(checker.violations).toEqual([]);
  });
});
