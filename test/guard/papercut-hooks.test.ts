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
import { DATABASES, type TestDatabase } from '../helpers/database';
import { bundleGuard } from '../helpers/guard-bundle';
import { ActiveChecker, activeNodes, GuardNode, waitFor } from '../helpers/guard-cluster';
import { hookLines, installStandin, readCalls, standinHooks } from '../helpers/papercut-standin';
import { freePort } from '../helpers/ports';

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

/** `detail` of each "hook NAME done" line in a node's log (pino JSON lines). */
function hookDetails(node: GuardNode, hook: string): string[] {
  return node
    .log()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; detail?: string })
    .filter((e) => e.msg === `hook ${hook} done`)
    .map((e) => e.detail ?? '');
}

async function theActive(nodes: GuardNode[], timeoutMs = 30000): Promise<GuardNode> {
  await waitFor('exactly one active node', async () => (await activeNodes(nodes)).length === 1, timeoutMs);
  const [name] = await activeNodes(nodes);
  return nodes.find((n) => n.name === name)!;
}

describe.each(DATABASES)('PaperCut stand-in on $name through the guard', (fixture) => {
  let db: TestDatabase;
  const checker = new ActiveChecker();
  const nodes: GuardNode[] = [];
  let dir: string;
  let share: string;
  let calls: string;
  let appPwFile: string;
  const postgres = fixture.name === 'PostgreSQL';

  /** Sessions of the app's database user, as the server sees them. */
  const appSessions = async (): Promise<number> => {
    const rows = postgres
      ? await db.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'papercut_app' AND datname = 'papercut_app' AND application_name = 'papercut-standin'`)
      : await db.sql(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'papercut_app' AND DB = 'papercut_app'`);
    return Number(rows[0].n);
  };
  const networkAddress = async (): Promise<string | undefined> => {
    // read as the administrator from the app's own database
    const rows = postgres
      ? await (async () => {
          const { Client } = await import('pg');
          const pg = db as unknown as { clientConfig: Record<string, unknown> };
          const c = new Client({ ...pg.clientConfig, database: 'papercut_app' });
          await c.connect();
          try {
            return (await c.query(`SELECT config_value FROM tbl_config WHERE config_name = 'system.network-address'`)).rows;
          } finally {
            await c.end();
          }
        })()
      : await db.sql(`SELECT config_value FROM papercut_app.tbl_config WHERE config_name = 'system.network-address'`);
    return rows[0]?.config_value as string | undefined;
  };
  const dbToolsCalls = () => readCalls(calls).filter((c) => c.tool === 'db-tools');
  const addressCalls = () => readCalls(calls).filter((c) => c.tool === 'server-command' && c.args[1] === 'system.network-address');

  beforeAll(async () => {
    db = await fixture.start();
    // the guard's user stands for the cloud's master user: it may create users and databases
    if (!postgres) await db.sql(`GRANT ALL PRIVILEGES ON *.* TO 'guard'@'127.0.0.1' WITH GRANT OPTION`);
    dir = join(root, fixture.name);
    share = join(dir, 'share');
    mkdirSync(share, { recursive: true });
    calls = join(dir, 'calls.jsonl');
    appPwFile = join(dir, 'app-password');
    writeFileSync(appPwFile, 'first-Secret\\with:odd=chars#1\n', { mode: 0o600 });
    const dbPort = new URL(db.url.replace(/^[a-z]+:/, 'http:')).port;
    const appUrl = postgres ? `postgres://papercut_app@127.0.0.1:${dbPort}/papercut_app?sslmode=disable` : `mysql://papercut_app@127.0.0.1:${dbPort}/papercut_app`;
    for (const name of ['pc-a', 'pc-b']) {
      const appPort = await freePort();
      const app = installStandin(join(dir, name, 'papercut'), { share, port: appPort, calls });
      const node = await GuardNode.create(name, `fc11-${postgres ? 'pg' : 'my'}`, bundle, root, db, {
        appPort,
        service: { command: `exec ${app.appServer}`, ready: `http://127.0.0.1:${appPort}/app` },
        extra: [
          'high-availability-guard.startup-timeout-secs=60',
          `app.database.url=${appUrl}`,
          `app.database.password-source=file:${appPwFile}`,
          `app.network-address=${LB_NAME}`,
          ...hookLines(standinHooks(app.appPath)),
        ],
      });
      nodes.push(node);
    }
    checker.watch(nodes);
    checker.start();
  }, 60000);

  afterAll(async () => {
    checker.stop();
    await Promise.all(nodes.map((n) => n.kill()));
    await db?.close();
  });

  afterEach(() => {
    const state = expect.getState();
    if (state.assertionCalls !== state.numPassingAsserts) keepLogs = true;
  });

  it('first activation: app user and database made, schema initialised once, app connected as the app user, network address set', async () => {
    // when
    nodes.forEach((n) => n.start());
    const active = await theActive(nodes);
    await waitFor('network address set', async () => (await networkAddress()) === LB_NAME, 20000);

    // then
    expect(await appSessions()).toBe(1);
    expect(dbToolsCalls()).toEqual([expect.objectContaining({ args: ['init-db', '-f'], node: active.name })]);
    expect(addressCalls()).toEqual([expect.objectContaining({ args: ['set-config', 'system.network-address', LB_NAME], node: active.name })]);
    const props = readFileSync(join(share, 'server.properties'), 'utf8');
    expect(props).toContain('server.port=9191');
    expect(props).toContain('database.username=papercut_app');
    expect(props).toMatch(postgres ? /database.url=jdbc:postgresql:\/\/127.0.0.1:\d+\/papercut_app\?sslmode=disable/ : /database.url=jdbc:mysql:\/\/127.0.0.1:\d+\/papercut_app\?sslMode=DISABLED/);
    expect(hookDetails(active, 'app-database')).toEqual(['created user papercut_app, created database papercut_app' + (postgres ? '' : ', granted papercut_app all on papercut_app')]);
    expect(hookDetails(active, 'schema-init')).toEqual([expect.stringMatching(/^ran .*db-tools init-db -f/)]);
    expect(active.log()).not.toContain('first-Secret');
  });

  it('failover by kill -9: the other node starts on the same database without init-db', async () => {
    // given
    const old = await theActive(nodes);
    // when
    await old.kill();
    const next = await theActive(nodes.filter((n) => n !== old), 30000);
    await waitFor('network address set again', () => addressCalls().length === 2, 20000);

    // then
    expect(next).not.toBe(old);
    expect(dbToolsCalls()).toHaveLength(1);
    old.start();
    expect(hookDetails(next, 'schema-init').at(-1)).toMatch(/^skipped: done in term \d+ by pc-. \(ran\)$/);
    await waitFor('one app session', async () => (await appSessions()) === 1, 10000);
  });

  it('a rotated app password reaches the app at its next start (second failover, a step-down)', async () => {
    // given: a new secret value
    const active = await theActive(nodes);
    writeFileSync(appPwFile, 'rotated-Secret-2\n', { mode: 0o600 });

    // when
    expect(active.cli('step-down').code).toBe(0);
    const next = await theActive(nodes.filter((n) => n !== active), 30000);

    // then
    expect(readFileSync(join(share, 'server.properties'), 'utf8')).toContain('database.password=rotated-Secret-2');
    expect(hookDetails(next, 'app-database').at(-1)).toBe('set the password of papercut_app');
    await waitFor('network address set a third time', () => addressCalls().length === 3, 20000);
    expect(await appSessions()).toBe(1);
    expect(dbToolsCalls()).toHaveLength(1);
    expect(checker.violations).toEqual([]);
  });
});
