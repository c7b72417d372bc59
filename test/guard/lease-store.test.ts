/**
 * The lease-store protocol against every supported database (real servers: embedded PostgreSQL
 * and Debian's MariaDB), through the same factory the guard uses; and its reconnects.
 */
import { createLeaseStore } from '../../lib/guard/daemon';
import type { LeaseStore } from '../../lib/guard/store';
import * as net from 'net';
import { DATABASES, type TestDatabase } from '../harness/database';
import { freePort } from '../harness/ports';
import { startPostgres } from '../harness/postgres';

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

  // bounded reconnects (issue 12): the secret is fetched on the first connect and after the
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
