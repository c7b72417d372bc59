/**
 * The lease-store protocol against every supported database (real servers: embedded PostgreSQL
 * and Debian's MariaDB), through the same factory the guard uses; and its reconnects.
 */
import { createLeaseStore } from '../../../lib/guard/daemon';
import type { LeaseStore } from '../../../lib/guard/lease/store';
import * as net from 'net';
import { DATABASES, type TestDatabase } from '../../harness/database';
import { freePort } from '../../harness/ports';
import { openSession, withSession } from '../../../lib/guard/lease/sql-session';
import type { Log } from '../../../lib/guard/log';
import { startPostgres, type TestPostgres } from '../../harness/postgres';
import { Client } from 'pg';
import { randomBytes } from 'crypto';
import { formatStatus } from '../../../lib/guard/cli';

const passive = { role: 'passive' as const, term: 0 };

describe.each(DATABASES)('lease store on $name', (fixture) => {
  let db: TestDatabase;
  const stores: LeaseStore[] = [];

  beforeAll(async () => {
    db = await fixture.start();
  }, 60000);

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db?.close();
  });

  function store(node: string, cluster = 'c1', password: () => Promise<string | undefined> = async () => db.password): LeaseStore {
    const s = createLeaseStore({ url: db.url, cluster, node, version: '0.0.0-test', queryTimeoutSecs: 0.5, password });
    stores.push(s);
    return s;
  }

  it('meets tables of the previous shape: a store adds the members columns on its first statement, old guards keep working', async () => {
    // given: the tables as the previous version created them (by the guard's own user, their owner),
    // and an old guard on node b holding the lease under its bare node id
    const isPg = fixture.name === 'PostgreSQL';
    const old = await openSession({ url: db.url, password: db.password, application: 'old guard' });
    const oldUpsert = isPg
      ? `INSERT INTO failover_guard_members (cluster, node, role, term, last_seen, version) VALUES ('up', 'b', 'active', 1, clock_timestamp(), '0.old')
         ON CONFLICT (cluster, node) DO UPDATE SET role = EXCLUDED.role, term = EXCLUDED.term, last_seen = EXCLUDED.last_seen, version = EXCLUDED.version`
      : `INSERT INTO failover_guard_members (cluster, node, role, term, last_seen, version) VALUES ('up', 'b', 'active', 1, NOW(6), '0.old')
         ON DUPLICATE KEY UPDATE role = VALUES(role), term = VALUES(term), last_seen = VALUES(last_seen), version = VALUES(version)`;
    try {
      const text = isPg ? 'text' : 'VARCHAR(255)';
      const ts = isPg ? 'timestamptz' : 'DATETIME(6)';
      await old.query(`CREATE TABLE failover_guard_lease (cluster ${text} PRIMARY KEY, holder ${text} NULL, term BIGINT NOT NULL DEFAULT 0,
        expires_at ${ts} NOT NULL DEFAULT ${isPg ? 'to_timestamp(0)' : "'1970-01-01 00:00:00'"}, maintenance BOOLEAN NOT NULL DEFAULT FALSE)`);
      await old.query(`CREATE TABLE failover_guard_members (cluster ${text} NOT NULL, node ${text} NOT NULL, role VARCHAR(32) NOT NULL, term BIGINT NOT NULL,
        last_seen ${ts} NOT NULL, version VARCHAR(64) NOT NULL, PRIMARY KEY (cluster, node))`);
      await old.query(`CREATE TABLE failover_guard_events (id ${isPg ? 'bigserial' : 'BIGINT NOT NULL AUTO_INCREMENT'} PRIMARY KEY, cluster ${text} NOT NULL,
        at ${ts} NOT NULL${isPg ? ' DEFAULT clock_timestamp()' : ''}, node ${text} NOT NULL, event VARCHAR(32) NOT NULL, term BIGINT NOT NULL, detail TEXT NULL)`);
      await old.query(
        `INSERT INTO failover_guard_lease (cluster, holder, term, expires_at) VALUES ('up', 'b', 1, ${isPg ? "clock_timestamp() + interval '60 seconds'" : 'NOW(6) + INTERVAL 60 SECOND'})`,
      );
      await old.query(oldUpsert);
      // when: a new guard with the same node id polls without init-db
      const b = store('b', 'up');
      const seen = await b.poll(passive, 6, true);
      // then: it sees the old guard's lease as someone else's, never releases or renews it
      expect(seen).toMatchObject({ acquired: false, lease: { holder: 'b', holderInstance: null, term: 1 } });
      expect(await b.release(1)).toBe(false);
      expect((await b.renew(1, { role: 'active', term: 1 }, 6)).renewed).toBe(false);
      // and the old guard's heartbeat and renew still work on the upgraded table
      await old.query(oldUpsert);
      const renewed = await old.query(
        `UPDATE failover_guard_lease SET expires_at = ${isPg ? "clock_timestamp() + interval '60 seconds'" : 'NOW(6) + INTERVAL 60 SECOND'} WHERE cluster = 'up' AND holder = 'b' AND term = 1`,
      );
      expect(renewed.affected).toBe(1);
      expect((await b.status()).members).toMatchObject([{ node: 'b', version: '0.old' }]);
    } finally {
      await old.close();
    }
  });

  it('init-db (init) upgrades a members table of the previous shape too', async () => {
    // given: the members table back in the previous shape (the new columns dropped by its owner)
    await withSession({ url: db.url, password: db.password, application: 'test' }, async (s) => {
      for (const c of ['instance', 'replaced_instance', 'duplicate_instance', 'duplicate_seen']) await s.query(`ALTER TABLE failover_guard_members DROP COLUMN ${c}`);
    });
    // when
    const a = store('a', 'up2');
    await a.init();
    // then
    await a.poll(passive, 6, false);
    expect((await a.status()).members).toMatchObject([{ node: 'a', instance: a.instance }]);
  });

  it('two processes under one node id: the second never renews or releases the first\'s lease, and both report the duplicate', async () => {
    // given: two guard processes that were given the same node id (a cloned image)
    const first = store('twin', 'dup');
    const second = store('twin', 'dup');
    await first.init();
    const won = await first.poll(passive, 6, true);
    const term = won.lease.term;
    expect(won.acquired).toBe(true);
    // when: both beat, alternating, as two live guards do
    const seen = await second.poll(passive, 6, true);
    await first.renew(term, { role: 'active', term }, 6);
    await second.poll(passive, 6, true);
    await first.renew(term, { role: 'active', term }, 6);
    // then: the lease is not the second's, though it carries its node id
    expect(seen).toMatchObject({ acquired: false, lease: { holder: 'twin', holderInstance: first.instance, term } });
    expect(second.instance).not.toBe(first.instance);
    expect(await second.release(term)).toBe(false);
    expect((await second.renew(term, { role: 'active', term }, 6)).renewed).toBe(false);
    expect((await first.renew(term, { role: 'active', term }, 6)).renewed).toBe(true);
    // both see the other process; status shows it on the members row (written by the next beat)
    expect(second.duplicateNodeId).toBe(first.instance);
    expect(first.duplicateNodeId).toBe(second.instance);
    await second.poll(passive, 6, true);
    const member = (await first.status()).members.find((m) => m.node === 'twin');
    expect(member?.duplicate?.instance).toBe(first.instance);
    expect(member?.instance).toBe(second.instance);
    expect(formatStatus(await first.status()).join('\n')).toMatch(/DUPLICATE NODE ID: instances \w+ and \w+ both beat under twin/);
  });

  it('a restart under the same node id is not a duplicate', async () => {
    // given: an earlier run of this node beat and ended
    const before = store('again', 'restart');
    await before.init();
    await before.poll(passive, 6, false);
    await before.close();
    // when: the next run beats
    const after = store('again', 'restart');
    await after.poll(passive, 6, false);
    await after.poll(passive, 6, false);
    // then
    expect(after.duplicateNodeId).toBeUndefined();
  });

  it("a restarted guard hands back the lease of its previous run on this machine, and no other instance's", async () => {
    // given: the previous run holds the lease and died (kill -9: no release)
    const before = store('crashed', 'handback');
    await before.init();
    const won = await before.poll(passive, 6, true);
    expect(won.acquired).toBe(true);
    await before.close();
    // when: the next run, told which instance ran here before it (claimInstanceFile), and a clone with the same node id
    const after = createLeaseStore({ url: db.url, cluster: 'handback', node: 'crashed', version: '0.0.0-test', queryTimeoutSecs: 5, password: async () => db.password, predecessor: before.instance });
    stores.push(after);
    const clone = store('crashed', 'handback');
    // then: the clone cannot end it; the restarted run can, at once (not after L)
    expect(await clone.release(won.lease.term, 'someone-else')).toBe(false);
    expect(after.predecessor).toBe(before.instance);
    expect(await after.release(won.lease.term, after.predecessor)).toBe(true);
    const next = await clone.poll(passive, 6, true);
    expect(next).toMatchObject({ acquired: true, lease: { term: won.lease.term + 1 } });
  });

  it('an event insert that waits for a lock neither delays nor fails the renew', async () => {
    // given: a leader (Q = 1.5 s: an insert that waits its full Q is far longer than a renew),
    // and another session holding a lock on the events table
    const a = createLeaseStore({ url: db.url, cluster: 'ev', node: 'a', version: '0.0.0-test', queryTimeoutSecs: 1.5, password: async () => db.password });
    stores.push(a);
    await a.init();
    const { lease } = await a.poll(passive, 6, true);
    const beat = { role: 'active' as const, term: lease.term };
    await a.renew(lease.term, beat, 6); // the lease connection is open
    const isPg = fixture.name === 'PostgreSQL';
    const locker = await openSession({ url: db.url, password: db.password, application: 'test locker' });
    try {
      if (isPg) {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE failover_guard_events IN ACCESS EXCLUSIVE MODE');
      } else await locker.query('LOCK TABLES failover_guard_events WRITE');
      // when: the elector records an event (unawaited) and renews right after
      const event = a.recordEvent('became-active', lease.term).then(
        () => 'recorded',
        () => 'failed',
      );
      const t0 = Date.now();
      const renewed = await a.renew(lease.term, beat, 6);
      const ms = Date.now() - t0;
      // then: the renew went through at once (before: it queued behind the insert on the same
      // connection, and the insert's timeout dropped that connection under it)
      expect(renewed.renewed).toBe(true);
      expect(ms).toBeLessThan(1000);
      await event;
    } finally {
      await locker.query(isPg ? 'ROLLBACK' : 'UNLOCK TABLES').catch(() => undefined);
      await locker.close();
    }
    expect((await a.renew(lease.term, beat, 6)).renewed).toBe(true);
  });

  it('lets exactly one of several concurrent nodes acquire, with term + 1', async () => {
    // given
    const nodes = ['a', 'b', 'c'].map((n) => store(n));
    await Promise.all(nodes.map((s) => s.init()));
    // when
    const results = await Promise.all(nodes.map((s) => s.poll(passive, 6, true)));
    // then
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    const winner = results.find((r) => r.acquired)!;
    expect(winner.lease.term).toBe(1);
    expect(winner.lease.remainingMs).toBeGreaterThan(5000);
    expect((await nodes[0].status()).members.map((m) => m.node)).toEqual(['a', 'b', 'c']);
  });

  it('renews only with holder and term; release lets another node take over', async () => {
    // given
    const a = store('a', 'c2');
    const b = store('b', 'c2');
    await a.init();
    const won = await a.poll(passive, 6, true);
    const term = won.lease.term;
    // when / then
    expect((await a.renew(term, { role: 'active', term }, 6)).renewed).toBe(true);
    expect((await a.renew(term + 1, { role: 'active', term }, 6)).renewed).toBe(false);
    expect((await b.renew(term, { role: 'active', term }, 6)).renewed).toBe(false);
    const blocked = await b.poll(passive, 6, true);
    expect(blocked).toMatchObject({ acquired: false, lease: { holder: 'a', term } });
    expect(await a.release(term)).toBe(true);
    expect(await a.release(term)).toBe(false);
    const taken = await b.poll(passive, 6, true);
    expect(taken).toMatchObject({ acquired: true, lease: { holder: 'b', term: term + 1 } });
    expect((await a.renew(term, { role: 'active', term }, 6)).renewed).toBe(false);
  });

  it('renews twice in a row (the row matches even when nothing else changed)', async () => {
    // given
    const a = store('a', 'c7');
    await a.init();
    const { lease } = await a.poll(passive, 6, true);
    const beat = { role: 'active' as const, term: lease.term };
    // when
    const [r1, r2] = [await a.renew(lease.term, beat, 6), await a.renew(lease.term, beat, 6)];
    // then
    expect([r1.renewed, r2.renewed]).toEqual([true, true]);
    expect(r2.lease).toMatchObject({ holder: 'a', term: lease.term, maintenance: false });
  });

  it('lets the lease expire in database time', async () => {
    // given: a 0.3 s lease
    const a = store('a', 'c3');
    const b = store('b', 'c3');
    await a.init();
    await a.poll(passive, 0.3, true);
    expect((await b.poll(passive, 6, true)).acquired).toBe(false);
    // when
    await new Promise((r) => setTimeout(r, 400));
    // then
    expect((await b.poll(passive, 6, true)).acquired).toBe(true);
  });

  it('does not acquire in maintenance, and records the events', async () => {
    // given
    const a = store('a', 'c4');
    await a.init();
    // when
    await a.setMaintenance(true);
    const r = await a.poll(passive, 6, true);
    await a.setMaintenance(false);
    const r2 = await a.poll(passive, 6, true);
    await a.recordEvent('became-active', r2.lease.term, 'test');
    // then
    expect(r).toMatchObject({ acquired: false, lease: { maintenance: true } });
    expect(r2.acquired).toBe(true);
    const st = await a.status();
    expect(st.events.map((e) => e.event)).toEqual(['became-active', 'maintenance-off', 'maintenance-on']);
    expect(st.events[0]).toMatchObject({ node: 'a', term: r2.lease.term, detail: 'test' });
    expect(Math.abs(Date.parse(st.events[0].at) - Date.now())).toBeLessThan(60000);
    expect(st.members).toMatchObject([{ node: 'a', role: 'passive' }]);
    expect(st.lease.holder).toBe('a');
  });

  it('does not pretend a missing lease row exists', async () => {
    // given: tables exist, but no row for this cluster
    const a = store('a', 'c1');
    await a.init();
    const ghost = store('a', 'never-initialised');
    // when / then
    await expect(ghost.poll(passive, 6, true)).rejects.toThrow(/run init-db/);
    await expect(ghost.setMaintenance(true)).rejects.toThrow(/run init-db/);
  });

  it('sends one round-trip per poll and per renew', async () => {
    // given
    const a = store('a', 'c5');
    await a.init();
    const before = a.statements;
    // when
    const { lease } = await a.poll(passive, 6, true);
    await a.renew(lease.term, { role: 'active', term: lease.term }, 6);
    // then: PostgreSQL runs one statement per call; MySQL one multi-statement of three
    expect(a.statements - before).toBe(fixture.name === 'PostgreSQL' ? 2 : 6);
  });

  // bounded reconnects: the secret is fetched on the first connect and after the
  // server rejects it only, every wait is bounded

  /** One call, retried once: the first statement on a connection the server ended fails by design. */
  async function pollTwice(s: LeaseStore): Promise<void> {
    await s.poll(passive, 6, false).catch(() => s.poll(passive, 6, false));
  }

  function reconnectStore(password: () => Promise<string | undefined>, url = db.url): LeaseStore {
    const s = createLeaseStore({ url, cluster: 'rc', node: 'a', version: '0.0.0-test', queryTimeoutSecs: 0.5, password });
    stores.push(s);
    return s;
  }

  it('fetches the secret once across reconnects', async () => {
    // given
    let fetches = 0;
    const s = reconnectStore(async () => {
      fetches++;
      return db.password;
    });
    await s.init();
    // when: the server ends the session three times
    for (let i = 0; i < 3; i++) {
      await db.killGuardSessions();
      await pollTwice(s);
    }
    // then
    expect(fetches).toBe(1);
  });

  it('fetches the secret again when the server rejects it (rotation), within the same call', async () => {
    // given: a user of its own whose password rotates
    const isPg = fixture.name === 'PostgreSQL';
    const user = 'fc12a_rot';
    await reconnectStore(async () => db.password).init(); // tables and lease row, by their owner
    if (isPg) {
      await db.sql(`CREATE ROLE ${user} LOGIN PASSWORD 'first-pw'`);
      await db.sql(`GRANT ALL ON SCHEMA public TO ${user}`);
      await db.sql(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${user}`);
      await db.sql(`GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${user}`);
    } else {
      await db.sql(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY 'first-pw'`);
      // not ALL: a master as RDS gives it lacks DELETE HISTORY, which ALL includes on MariaDB
      await db.sql(`GRANT SELECT, INSERT, UPDATE, DELETE ON guard.* TO '${user}'@'127.0.0.1'`);
    }
    let secret = 'first-pw';
    let fetches = 0;
    const s = reconnectStore(
      async () => {
        fetches++;
        return secret;
      },
      db.url.replace(/\/\/[^@]+@/, `//${user}@`),
    );
    await s.poll(passive, 6, false);
    // when: rotated in the database and the secret store, and the session ends
    if (isPg) await db.sql(`ALTER ROLE ${user} PASSWORD 'second-pw'`);
    else await db.sql(`ALTER USER '${user}'@'127.0.0.1' IDENTIFIED BY 'second-pw'`);
    secret = 'second-pw';
    if (isPg) await db.killGuardSessions();
    else for (const row of await db.sql(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = '${user}'`)) await db.superuser.sql(`KILL ${Number(row.id)}`).catch(() => undefined);
    // then: one call reconnects with the cached password, is rejected, fetches, succeeds
    await pollTwice(s);
    expect(fetches).toBe(2);
  });

  it('a hung secret fetch fails the call within the bound, and close does not wait for it', async () => {
    const s = reconnectStore(() => new Promise<string>(() => undefined));
    await expect(s.poll(passive, 6, false)).rejects.toThrow(/fetching the database password timed out/);
    await s.close();
  });

  it('connects slower than Q: the statement that gave up waiting leaves the connect running for the next one', async () => {
    // given: a TCP proxy that holds each new connection back 3·Q before joining it to the server
    // (a loaded machine: a new server process, SCRAM, session settings)
    const q = 0.3;
    const target = Number(new URL(db.url.replace(/^[a-z]+:/, 'http:')).port);
    const proxy = net.createServer((client) => {
      client.pause();
      const timer = setTimeout(() => {
        const server = net.connect(target, '127.0.0.1');
        client.pipe(server).pipe(client);
        client.resume();
        server.on('error', () => client.destroy());
      }, 3 * q * 1000);
      client.on('error', () => undefined);
      client.on('close', () => clearTimeout(timer));
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const url = db.url.replace(`:${target}/`, `:${(proxy.address() as net.AddressInfo).port}/`);
    const s = createLeaseStore({ url, cluster: 'c1', node: 'slow', version: '0', queryTimeoutSecs: q, password: async () => db.password });
    try {
      // when: the first statement waits Q for its connect
      await expect(s.init()).rejects.toThrow();
      // then: retrying as the elector does (every 200 ms here), one gets through on that connect;
      // abandoning each connect at Q (before) failed every one, so a guard that lost its
      // connection on a loaded machine never got one back
      for (let failures = 0; ; ) {
        try {
          await s.init();
          break;
        } catch (e) {
          if (++failures === 20) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect((await s.poll(passive, 6, false)).lease.holder).toBeDefined();
    } finally {
      await s.close();
      proxy.close();
    }
  });

  it('PostgreSQL: statement_timeout is SET after connecting, never sent as a startup parameter (PgBouncer)', async () => {
    if (fixture.name !== 'PostgreSQL') return;
    // given: a recording TCP proxy in front of a real PostgreSQL; a plain one, because the test
    // reads the startup packet on the wire, which TLS would encrypt
    const plain = await startPostgres({ plainSuperuser: 'reads the startup packet on the wire, which TLS encrypts' });
    const chunks: Buffer[] = [];
    const proxy = net.createServer((client) => {
      const server = net.connect(plain.port, '127.0.0.1');
      client.on('data', (d: Buffer) => chunks.push(d));
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    });
    const port = await freePort();
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
    const url = new URL(plain.url);
    url.port = String(port);
    const s = createLeaseStore({ url: url.toString(), cluster: 'st', node: 'a', version: '0', queryTimeoutSecs: 0.5, password: async () => plain.password });
    try {
      // when
      await s.init();
      // then
      const startup = chunks[0].toString('latin1');
      expect(startup).toContain('application_name');
      expect(startup).not.toContain('statement_timeout');
      expect(Buffer.concat(chunks).toString('latin1')).toContain('SET statement_timeout = 500');
    } finally {
      await s.close();
      proxy.close();
      await plain.close();
    }
  });
});

/** A log that keeps what it is told. */
function recordingLog(): Log & { lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, msg, obj });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await check()) return true;
  return check();
}

describe('database-side fencing on PostgreSQL (managed-like: the master is no superuser)', () => {
  // The server also accepts logins from 127.0.0.0/8, so an app session can come from 127.0.0.2
  // ("another node") while this node's come from 127.0.0.1. The superuser only sets up the
  // master role and its database, as the cloud does.
  let pg: TestPostgres;
  const closers: (() => Promise<unknown>)[] = [];
  const masterPw = randomBytes(12).toString('hex');
  const appPw = randomBytes(12).toString('hex');
  let masterUrl: string;

  beforeAll(async () => {
    pg = await startPostgres({ extraListen: { address: '127.0.0.2', net: '127.0.0.0/8' } });
    await pg.superuser.sql(`CREATE ROLE fence_master LOGIN CREATEROLE CREATEDB PASSWORD '${masterPw}'`);
    await pg.superuser.sql(`CREATE DATABASE fence OWNER fence_master`);
    masterUrl = pg.url.replace('//guard@', '//fence_master@').replace('/guard?', '/fence?');
    await withSession({ url: masterUrl, password: masterPw, application: 'test' }, (s) => s.query(`CREATE ROLE fence_app LOGIN PASSWORD '${appPw}'`));
  }, 60000);

  afterAll(async () => {
    for (const c of closers) await c().catch(() => undefined);
    await pg?.close();
  });

  /** An app session as fence_app, from `from` (a loopback address). */
  async function appSession(from: string, user = 'fence_app', database = 'fence'): Promise<Client> {
    const c = new Client({
      host: '127.0.0.1',
      port: pg.port,
      user,
      password: appPw,
      database,
      ssl: pg.clientConfig.ssl,
      stream: () => {
        const s = new net.Socket();
        const connect = s.connect.bind(s) as (o: net.TcpSocketConnectOpts) => net.Socket;
        (s as unknown as { connect: (port: number, host: string) => net.Socket }).connect = (port, host) => connect({ port, host, localAddress: from });
        return s;
      },
    });
    c.on('error', () => undefined);
    await c.connect();
    closers.push(() => c.end());
    return c;
  }

  const alive = (c: Client) => c.query('SELECT 1').then(
    () => true,
    () => false,
  );

  async function acquire(s: LeaseStore): Promise<void> {
    await s.init();
    expect((await s.poll(passive, 30, true)).acquired).toBe(true);
  }

  /** `other` ends soon after the acquire, `own` is kept, nothing was warned about. */
  async function expectFenced(other: Client, own: Client, log: ReturnType<typeof recordingLog>): Promise<void> {
    expect(await eventually(async () => !(await alive(other)))).toBe(true);
    expect(await alive(own)).toBe(true);
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
  }

  function fencingStore(cluster: string, log: Log, url = masterUrl, password = masterPw, appUser = 'fence_app'): LeaseStore {
    const s = createLeaseStore({ url, cluster, node: 'n1', version: '0', queryTimeoutSecs: 2, password: async () => password, appUser, log });
    closers.push(() => s.close());
    return s;
  }

  it("as RDS's master (a member of rds_superuser: pg_signal_backend, pg_read_all_stats): ends other nodes' app sessions on acquire, keeps this node's", async () => {
    // given: the harness's master, which carries the stand-in for rds_superuser / azure_pg_admin,
    // creates the app role as the database hooks do
    await withSession({ url: pg.url, password: pg.password, application: 'test' }, (s) => s.query(`CREATE ROLE fence_app_rds LOGIN PASSWORD '${appPw}'`));
    const other = await appSession('127.0.0.2', 'fence_app_rds', 'guard');
    const own = await appSession('127.0.0.1', 'fence_app_rds', 'guard');
    const log = recordingLog();
    // when
    await acquire(fencingStore('f0', log, pg.url, pg.password, 'fence_app_rds'));
    // then
    await expectFenced(other, own, log);
  });

  it('without the privilege: warns once, takes the lease, leaves the sessions', async () => {
    // given
    const other = await appSession('127.0.0.2');
    const log = recordingLog();
    // when
    await acquire(fencingStore('f1', log));
    // then
    expect(await eventually(async () => log.lines.some((l) => l.level === 'warn' && /database-side fencing/.test(l.msg)))).toBe(true);
    expect(await alive(other)).toBe(true);
  });

  it("with membership in the app role (the master grants it itself): ends other nodes' app sessions on acquire, keeps this node's", async () => {
    // given: the master, which created the app role, makes itself a member (no superuser needed)
    await withSession({ url: masterUrl, password: masterPw, application: 'test' }, (s) => s.query('GRANT fence_app TO fence_master WITH INHERIT TRUE'));
    const other = await appSession('127.0.0.2');
    const own = await appSession('127.0.0.1');
    const log = recordingLog();
    const s = fencingStore('f2', log);
    // when
    await acquire(s);
    // then
    await expectFenced(other, own, log);
    // and a poll that does not acquire ends nothing
    const later = await appSession('127.0.0.2');
    await s.poll(passive, 30, true);
    await new Promise((res) => setTimeout(res, 300));
    expect(await alive(later)).toBe(true);
  });
});
