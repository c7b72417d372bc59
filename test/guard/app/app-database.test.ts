/**
 * The app user and database (ensureAppDatabase, the CLI's init-db) and the once-per-cluster
 * marker (runOnceUnderLease) against each real database.
 */
import { holderId } from '../../../lib/guard/lease/holder-identity';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ensureAppDatabase, runOnceUnderLease } from '../../../lib/guard/app/app-database';
import { guardCliMain } from '../../../lib/guard';
import { createLeaseStore } from '../../../lib/guard/daemon';
import { HookRunner } from '../../../lib/guard/app/hooks';
import { silent } from '../../harness/silent-log';
import { withSession, type SessionTarget } from '../../../lib/guard/lease/sql-session';
import { DATABASES, type DatabaseFixture, type TestDatabase } from '../../harness/database';

jest.setTimeout(60000);

/** PostgreSQL 17 and MariaDB (DATABASES), and PostgreSQL 15 for the role rules before 16. */
const SERVERS: readonly DatabaseFixture[] = [...DATABASES, { name: 'PostgreSQL 15', start: async () => (await import('../../harness/postgres')).startPostgres({ version: 15 }) }];

describe.each(SERVERS)('app database on $name', (fixture) => {
  let db: TestDatabase;
  let dir: string;
  const postgres = fixture.name.startsWith('PostgreSQL');
  // the harness's master: no superuser (LOGIN CREATEROLE CREATEDB; MariaDB RDS's grants, no SUPER), TLS verify-full
  const master = (): SessionTarget => ({ url: db.url, password: db.password, application: 'test' });
  const app = (user: string, password: string, database = user): SessionTarget => ({ url: db.userUrl(user, database), password, application: 'test' });

  beforeAll(async () => {
    db = await fixture.start();
    dir = mkdtempSync(join(tmpdir(), 'fc11-appdb-'));
  }, 60000);
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the user and database once, changes nothing the second time, sets a rotated password', async () => {
    // when
    const first = await ensureAppDatabase({ master: master(), app: app('app_one', 'pw-1') });
    const second = await ensureAppDatabase({ master: master(), app: app('app_one', 'pw-1') });
    const rotated = await ensureAppDatabase({ master: master(), app: app('app_one', 'pw-2') });
    // then
    expect(first).toEqual(['created user app_one', 'created database app_one', ...(postgres ? [] : ['granted app_one its rights on app_one'])]);
    expect(second).toEqual([]);
    expect(rotated).toEqual(['set the password of app_one']);
    await expect(ensureAppDatabase({ master: master(), app: app('app_one', 'pw-2') })).resolves.toEqual([]);
  });

  it('the app user owns only its database: it cannot read the guard tables', async () => {
    // given
    await ensureAppDatabase({ master: master(), app: app('app_two', 'pw') });
    const store = createLeaseStore({ url: db.url, cluster: 'c', node: 'n', version: 't', queryTimeoutSecs: 5, password: async () => db.password });
    await store.init();
    await store.close();
    // when / then
    const read = withSession(app('app_two', 'pw'), (s) => s.query(postgres ? 'SELECT * FROM failover_guard_lease' : 'SELECT * FROM guard.failover_guard_lease'));
    await expect(read).rejects.toThrow(postgres ? /does not exist|permission denied/ : /denied/);
  });

  it('init-db (CLI) makes the tables and the app user; a second run reports nothing to do', async () => {
    // given
    const pw = join(dir, 'app-pw');
    writeFileSync(pw, 'cli-pw\n');
    const cfg = join(dir, `guard-${fixture.name}.properties`);
    const a = app('app_cli', 'cli-pw');
    writeFileSync(
      cfg,
      [`cluster.name=cli`, `database.url=${db.url}`, `database.password-source=${db.passwordSource}`, 'service.command=true', `app.database.url=${a.url}`, `app.database.password-source=file:${pw}`].join('\n') + '\n',
    );
    const run = async () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await guardCliMain(['init-db', '--config', cfg], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
      return { code, out, err };
    };
    // when
    const first = await run();
    const second = await run();
    // then
    expect(first).toEqual({ code: 0, err: [], out: ['ok: tables ready', `ok: app database: created user app_cli, created database app_cli${postgres ? '' : ', granted app_cli its rights on app_cli'}`] });
    expect(second.out).toEqual(['ok: tables ready', 'ok: app database: already up to date']);
  });

  it('init-db and the hook\'s function as the master the cloud gives (no superuser) make the app user and database; the app user logs in over TLS and builds its schema', async () => {
    // given
    const pw = join(dir, 'app-pw-cloud');
    writeFileSync(pw, 'cloud-pw\n');
    const cfg = join(dir, `guard-cloud-${fixture.name}.properties`);
    const a = app('app_cloud', 'cloud-pw');
    writeFileSync(cfg, [`cluster.name=cloud`, `database.url=${db.url}`, `database.password-source=${db.passwordSource}`, 'service.command=true', `app.database.url=${a.url}`, `app.database.password-source=file:${pw}`].join('\n') + '\n');
    const run = async () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await guardCliMain(['init-db', '--config', cfg], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
      return { code, out, err };
    };
    expect(a.url).toMatch(postgres ? /sslmode=verify-full/ : /ssl-mode=VERIFY_IDENTITY/);

    // when
    const first = await run();
    const second = await run();

    // then
    expect(first).toEqual({ code: 0, err: [], out: ['ok: tables ready', `ok: app database: created user app_cloud, created database app_cloud${postgres ? '' : ', granted app_cloud its rights on app_cloud'}`] });
    expect(second).toEqual({ code: 0, err: [], out: ['ok: tables ready', 'ok: app database: already up to date'] });
    // the app user, over TLS verified against the private CA, builds its schema in its own database
    await withSession(a, async (s) => {
      await s.query('CREATE TABLE tbl_printer (id integer PRIMARY KEY, name varchar(50))');
      await s.query(`INSERT INTO tbl_printer VALUES (1, 'p')`);
      if (postgres) expect((await s.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows).toEqual([{ ssl: true }]);
      else expect((await s.query(`SHOW SESSION STATUS LIKE 'Ssl_version'`)).rows[0]?.Value).toMatch(/^TLS/);
    });
    // the hook's path (the same function) with a rotated password
    await expect(ensureAppDatabase({ master: master(), app: app('app_cloud', 'cloud-pw-2') })).resolves.toEqual(['set the password of app_cloud']);
    if (postgres) {
      // nobody else may connect to the app's database (REVOKE … FROM PUBLIC took effect)
      await db.sql(`CREATE ROLE app_other LOGIN PASSWORD 'other-pw'`);
      await expect(withSession(app('app_other', 'other-pw', 'guard'), (s) => s.query('SELECT 1')).then(() => 'connected')).resolves.toBe('connected');
      await expect(withSession(app('app_other', 'other-pw', 'app_cloud'), (s) => s.query('SELECT 1'))).rejects.toThrow(/permission denied for database/);
    }
  });

  it('the app-database hook (as the guard runs it before a start) with the cloud\'s master makes the user and database; the app user then logs in over TLS', async () => {
    // given
    const a = app('app_hook', 'hook-pw');
    const runner = new HookRunner({
      cluster: 'hook',
      node: 'node-a',
      instance: 'i',
      app: { beforeStart: [], afterReady: [], database: { url: a.url, passwordSource: 'env:UNUSED' } },
      masterUrl: db.url,
      masterPassword: async () => db.password,
      appPassword: async () => 'hook-pw',
      log: silent,
    });
    const hook = { kind: 'app-database', name: 'app-database', timeoutSecs: 30 } as const;

    // when
    await runner.runPhase('before-start', [hook], { env: {}, signal: new AbortController().signal, deadline: performance.now() + 30000 });

    // then
    const tls = await withSession(a, (s) =>
      s.query(postgres ? 'SELECT ssl AS on FROM pg_stat_ssl WHERE pid = pg_backend_pid()' : `SHOW SESSION STATUS LIKE 'Ssl_version'`),
    );
    expect(postgres ? tls.rows[0]?.on : tls.rows[0]?.Value).toEqual(postgres ? true : expect.stringMatching(/^TLS/));
    await expect(ensureAppDatabase({ master: master(), app: a })).resolves.toEqual([]);
  });

  it('runs a step once per cluster, only for the lease holder of that term; after a holder died mid-way it fails while work is left, runs again once it is empty', async () => {
    // given: node-a holds the lease in some term
    const store = createLeaseStore({ url: db.url, cluster: 'once', node: 'node-a', version: 't', queryTimeoutSecs: 5, password: async () => db.password });
    await store.init();
    const { acquired, lease } = await store.poll({ role: 'passive', term: 0 }, 30, true);
    expect(acquired).toBe(true);
    const step = { cluster: 'once', node: 'node-a', holder: holderId('node-a', store.instance!), term: lease.term, step: 'schema-init:x' };
    let runs = 0;
    // when: another node or a stale term tries
    await expect(runOnceUnderLease(master(), { ...step, node: 'node-b', holder: holderId('node-b', store.instance!) }, async () => void runs++)).rejects.toThrow(/not the lease holder/);
    await expect(runOnceUnderLease(master(), { ...step, term: lease.term - 1 }, async () => void runs++)).rejects.toThrow(/not the lease holder/);
    // another guard process under the same node id (a cloned image) is not the holder either
    await expect(runOnceUnderLease(master(), { ...step, holder: holderId('node-a', 'another-instance') }, async () => void runs++)).rejects.toThrow(/not the lease holder/);
    // a holder that dies mid-way leaves the step claimed but not done: what it left behind is
    // never taken for finished work; once that is gone (empty), it runs again from scratch
    await expect(runOnceUnderLease(master(), step, async () => Promise.reject(new Error('killed')))).rejects.toThrow('killed');
    const halfDone = runOnceUnderLease(master(), step, async () => void runs++, async () => 'the app database already has 3 tables');
    await expect(halfDone).rejects.toThrow(new RegExp(`^schema-init:x: the run of term ${lease.term} on node-a \\(started .+\\) never finished, and the app database already has 3 tables: a half-done run is never marked done`));
    const ran = await runOnceUnderLease(master(), step, async () => void runs++, async () => undefined);
    const again = await runOnceUnderLease(master(), step, async () => void runs++);
    const skipped = await runOnceUnderLease(master(), { ...step, step: 'schema-init:y' }, async () => void runs++, async () => 'not empty');
    // then
    expect(runs).toBe(1);
    expect(ran).toEqual({ ran: true });
    expect(again).toEqual({ ran: false, reason: `done in term ${lease.term} by node-a (ran)` });
    expect(skipped).toEqual({ ran: false, reason: 'not empty' });
    await store.close();
  });
});
