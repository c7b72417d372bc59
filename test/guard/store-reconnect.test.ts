/**
 * Bounded reconnects on the renew path (issue 12): the secret is fetched on the first connect and
 * after the server rejects it only, every wait is bounded, and PostgreSQL's statement timeout is
 * SET after connecting (PgBouncer rejects it as a startup parameter). Real servers.
 */
import * as net from 'net';
import { createLeaseStore } from '../../lib/guard/daemon';
import type { LeaseStore } from '../../lib/guard/store';
import { DATABASES, type TestDatabase } from '../helpers/database';
import { freePort } from '../helpers/ports';

const passive = { role: 'passive' as const, term: 0 };

/** One call, retried once: the first statement on a connection the server ended fails by design. */
async function pollTwice(s: LeaseStore): Promise<void> {
  await s.poll(passive, 6, false).catch(() => s.poll(passive, 6, false));
}

describe.each(DATABASES)('store reconnects on $name', (fixture) => {
  let db: TestDatabase;
  const stores: LeaseStore[] = [];

  beforeAll(async () => {
    db = await fixture.start();
  }, 60000);

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db?.close();
  });

  function store(password: () => Promise<string | undefined>, url = db.url): LeaseStore {
    const s = createLeaseStore({ url, cluster: 'rc', node: 'a', version: '0.0.0-test', queryTimeoutSecs: 0.5, password });
    stores.push(s);
    return s;
  }

  it('fetches the secret once across reconnects', async () => {
    // given
    let fetches = 0;
    const s = store(async () => {
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
    await store(async () => db.password).init(); // tables and lease row, by their owner
    if (isPg) {
      await db.sql(`CREATE ROLE ${user} LOGIN PASSWORD 'first-pw'`);
      await db.sql(`GRANT ALL ON SCHEMA public TO ${user}`);
      await db.sql(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${user}`);
      await db.sql(`GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${user}`);
    } else {
      await db.sql(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY 'first-pw'`);
      await db.sql(`GRANT ALL ON guard.* TO '${user}'@'127.0.0.1'`);
    }
    let secret = 'first-pw';
    let fetches = 0;
    const s = store(
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
    else for (const row of await db.sql(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = '${user}'`)) await db.sql(`KILL ${Number(row.id)}`).catch(() => undefined);
    // then: one call reconnects with the cached password, is rejected, fetches, succeeds
    await pollTwice(s);
    expect(fetches).toBe(2);
  });

  it('a hung secret fetch fails the call within the bound, and close does not wait for it', async () => {
    const s = store(() => new Promise<string>(() => undefined));
    await expect(s.poll(passive, 6, false)).rejects.toThrow(/fetching the database password timed out/);
    await s.close();
  });
});

describe('PostgreSQL statement timeout', () => {
  it('is SET after connecting, never sent as a startup parameter', async () => {
    // given: a recording TCP proxy in front of a real PostgreSQL
    const pg = DATABASES.find((d) => d.name === 'PostgreSQL')!;
    const db = await pg.start();
    const chunks: Buffer[] = [];
    const proxy = net.createServer((client) => {
      const server = net.connect(Number(new URL(db.url).port), '127.0.0.1');
      client.on('data', (d: Buffer) => chunks.push(d));
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    });
    const port = await freePort();
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
    const url = new URL(db.url);
    url.port = String(port);
    const s = createLeaseStore({ url: url.toString(), cluster: 'st', node: 'a', version: '0', queryTimeoutSecs: 0.5, password: async () => db.password });
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
      await db.close();
    }
  }, 60000);
});
