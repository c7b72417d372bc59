/**
 * The real guard (the CLI bundle) running papercut()'s own hooks against the PaperCut stand-in
 * (test/fixtures/papercut) on each real database: the active node's app connects as the app
 * user (never the master), `db-tools init-db` runs exactly once across two failovers, a rotated
 * app password reaches the app at its next start, and `system.network-address` is set to the
 * load balancer's name after every activation. L = 6 s.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { DATABASES, type TestDatabase } from '../../harness/database';
import type { TestPostgres } from '../../harness/postgres';
import { bundleGuard } from '../../harness/guard-bundle';
import { ActiveChecker } from '../../harness/guard-cluster';
import { waitFor } from '../../harness/wait';
import { hookDetails, StandinCluster } from '../../harness/papercut-standin';

jest.setTimeout(120000);

const LB_NAME = 'papercut-lb.example.internal';
let root: string;
let bundle: string;
let keepLogs = false;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'fc11-papercut-'));
  bundle = bundleGuard(root);
});

afterAll(() => {
  if (!keepLogs) rmSync(root, { recursive: true, force: true });
});

// a failed test keeps the guards' logs for a look
afterEach(() => {
  const state = expect.getState();
  if (state.assertionCalls !== state.numPassingAsserts) keepLogs = true;
});

describe.each(DATABASES)('PaperCut stand-in on $name through the guard', (fixture) => {
  let db: TestDatabase;
  let pc: StandinCluster;
  const checker = new ActiveChecker();
  const postgres = fixture.name === 'PostgreSQL';

  beforeAll(async () => {
    db = await fixture.start();
    const dir = join(root, fixture.name);
    mkdirSync(dir, { recursive: true });
    pc = await StandinCluster.create(db, dir, bundle, { cluster: `fc11-${postgres ? 'pg' : 'my'}`, lbName: LB_NAME });
    checker.watch(pc.nodes);
    checker.start();
  }, 60000);

  afterAll(async () => {
    checker.stop();
    await pc?.stop();
    await db?.close();
  });


  it('first activation: app user and database made, schema initialised once, app connected as the app user, network address set', async () => {
    // when
    pc.nodes.forEach((n) => n.start());
    const active = await pc.active();
    await waitFor('network address set', async () => (await pc.networkAddress()) === LB_NAME, 20000);

    // then
    expect(await pc.appSessions()).toBe(1);
    expect(pc.dbToolsCalls()).toEqual([expect.objectContaining({ args: ['init-db', '-f'], node: active.name })]);
    expect(pc.addressCalls()).toEqual([expect.objectContaining({ args: ['set-config', 'system.network-address', LB_NAME], node: active.name })]);
    const props = readFileSync(join(pc.share, 'server.properties'), 'utf8');
    expect(props).toContain('server.port=9191');
    expect(props).toContain('database.username=papercut_app');
    // the app's JDBC URL keeps TLS (the server accepts nothing else)
    expect(props).toMatch(postgres ? /database.url=jdbc:postgresql:\/\/127.0.0.1:\d+\/papercut_app\?sslmode=(require|verify-ca|verify-full)\b/ : /database.url=jdbc:mysql:\/\/127.0.0.1:\d+\/papercut_app\?sslMode=(REQUIRED|VERIFY_CA|VERIFY_IDENTITY)\b/);
    expect(hookDetails(active, 'app-database')).toEqual(['created user papercut_app, created database papercut_app' + (postgres ? '' : ', granted papercut_app its rights on papercut_app')]);
    expect(hookDetails(active, 'schema-init')).toEqual([expect.stringMatching(/^ran .*db-tools init-db -f/)]);
    expect(active.log()).not.toContain('first-Secret');
  });

  it('failover by kill -9: the other node starts on the same database without init-db', async () => {
    // given
    const old = await pc.active();
    // when
    await old.kill();
    const next = await pc.active(pc.nodes.filter((n) => n !== old));
    await waitFor('network address set again', () => pc.addressCalls().length === 2, 20000);

    // then
    old.start();
    expect(next).not.toBe(old);
    expect(pc.dbToolsCalls()).toHaveLength(1);
    expect(hookDetails(next, 'schema-init').at(-1)).toMatch(/^skipped: done in term \d+ by pc-. \(ran\)$/);
    await waitFor('one app session', async () => (await pc.appSessions()) === 1, 10000);
  });

  it('a rotated app password reaches the app at its next start (second failover, a step-down)', async () => {
    // given: a new secret value
    const active = await pc.active();
    pc.rotate('rotated-Secret-2');

    // when
    expect(active.cli('step-down').code).toBe(0);
    const next = await pc.active(pc.nodes.filter((n) => n !== active));

    // then
    expect(readFileSync(join(pc.share, 'server.properties'), 'utf8')).toContain('database.password=rotated-Secret-2');
    expect(hookDetails(next, 'app-database').at(-1)).toBe('set the password of papercut_app');
    await waitFor('network address set a third time', () => pc.addressCalls().length === 3, 20000);
    expect(await pc.appSessions()).toBe(1);
    expect(pc.dbToolsCalls()).toHaveLength(1);
    expect(checker.violations).toEqual([]);
  });
});

describe.each(DATABASES)('schema-init killed part-way on $name', (fixture) => {
  let db: TestDatabase;
  let pc: StandinCluster;
  const postgres = fixture.name === 'PostgreSQL';

  beforeAll(async () => {
    db = await fixture.start();
    const dir = join(root, `half-${fixture.name}`);
    mkdirSync(dir, { recursive: true });
    pc = await StandinCluster.create(db, dir, bundle, { cluster: `fc11-half-${postgres ? 'pg' : 'my'}`, lbName: LB_NAME });
  }, 60000);

  afterAll(async () => {
    await pc?.stop();
    await db?.close();
  });


  it('the next leader never takes the half-built schema for done: it fails naming the table count, and runs init-db from scratch once the database is gone', async () => {
    // given: node a's init-db stops after its first table, and the node dies with it (kill -9 of
    // the guard and of db-tools, which runs in a process group of its own: a crashed server)
    const [a, b] = pc.nodes;
    writeFileSync(`${pc.calls}.hang`, '');
    a.start();
    await waitFor('init-db part-way', () => pc.dbToolsCalls().some((c) => 'hanging' in c), 30000);
    const { hanging } = pc.dbToolsCalls().find((c) => 'hanging' in c) as unknown as { hanging: number };
    await a.kill();
    process.kill(hanging, 'SIGKILL');
    rmSync(`${pc.calls}.hang`);

    // when: node b takes the lease
    b.start();
    await waitFor('schema-init failed on b', () => b.logLines().some((l) => l.msg === 'hook schema-init failed'), 30000);

    // then: not skipped as done, the app not started, the error says what is there
    const failure = b.logLines().find((l) => l.msg === 'hook schema-init failed')!;
    expect(failure.err).toMatch(/the run of term \d+ on pc-a \(started .+\) never finished, and the app database already has 1 tables/);
    expect(hookDetails(b, 'schema-init')).toEqual([]);
    expect(b.appRunning()).toBe(false);
    expect(pc.dbToolsCalls().filter((c) => !('hanging' in c))).toHaveLength(1);

    // when: the operator drops the half-built database with the master, as the message says
    // (on PostgreSQL as the owner: the master may SET ROLE to it, it does not inherit its rights)
    if (postgres) {
      const { Client } = await import('pg');
      const c = new Client((db as TestPostgres).clientConfig);
      await c.connect();
      await c.query('SET ROLE papercut_app');
      await c.query('DROP DATABASE papercut_app');
      await c.end();
    } else {
      await db.sql('DROP DATABASE papercut_app');
    }

    // then: the next activation makes it again and runs init-db from scratch; the app starts
    const active = await pc.active([b], 60000);
    expect(hookDetails(active, 'schema-init')).toEqual([expect.stringMatching(/^ran .*db-tools init-db -f/)]);
    expect(pc.dbToolsCalls().filter((c) => !('hanging' in c)).map((c) => c.node)).toEqual(['pc-a', 'pc-b']);
    await waitFor('one app session', async () => (await pc.appSessions()) === 1, 10000);
  });
});
