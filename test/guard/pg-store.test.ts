import { Client } from 'pg';
import { PgLeaseStore } from '../../lib/guard/pg-store';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

let pg: TestPostgres;
const stores: PgLeaseStore[] = [];

beforeAll(async () => {
  pg = await startPostgres();
}, 60000);

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await pg?.destroy();
});

function store(node: string, cluster = 'c1', password: () => Promise<string | undefined> = async () => pg.password): PgLeaseStore {
  const s = new PgLeaseStore({ url: pg.url, cluster, node, version: '0.0.0-test', queryTimeoutSecs: 0.5, password });
  stores.push(s);
  return s;
}

async function sql(text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new Client(pg.clientConfig);
  await c.connect();
  try {
    return (await c.query(text, params)).rows;
  } finally {
    await c.end();
  }
}

const passive = { role: 'passive' as const, term: 0 };

describe('PgLeaseStore', () => {
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
    expect(await sql('SELECT node, role FROM failover_guard_members WHERE cluster = $1 ORDER BY node', ['c1'])).toHaveLength(3);
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
    const taken = await b.poll(passive, 6, true);
    expect(taken).toMatchObject({ acquired: true, lease: { holder: 'b', term: term + 1 } });
    expect((await a.renew(term, { role: 'active', term }, 6)).renewed).toBe(false);
  });

  it('lets the lease expire in database time', async () => {
    // given: a 0.3 s lease
    const a = store('a', 'c3');
    const b = store('b', 'c3');
    await a.init();
    await a.poll(passive, 0.3, true);
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
    // then
    expect(r).toMatchObject({ acquired: false, lease: { maintenance: true } });
    expect(r2.acquired).toBe(true);
    const st = await a.status();
    expect(st.events.map((e) => e.event)).toEqual(['maintenance-off', 'maintenance-on']);
    expect(st.members).toMatchObject([{ node: 'a', role: 'passive' }]);
    expect(st.lease.holder).toBe('a');
  });

  it('sends one statement per poll and per renew', async () => {
    // given
    const a = store('a', 'c5');
    await a.init();
    const before = a.statements;
    // when
    const { lease } = await a.poll(passive, 6, true);
    await a.renew(lease.term, { role: 'active', term: lease.term }, 6);
    // then
    expect(a.statements - before).toBe(2);
  });

  it('fetches the password again after the connection is lost', async () => {
    // given
    let fetched = 0;
    const a = store('a', 'c6', async () => (fetched++, pg.password));
    await a.init();
    // when: the server ends every other session
    await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'failover-guard a'`);
    // (the first poll fails, or finds the connection already dropped by its error event)
    await a.poll(passive, 6, false).catch(() => undefined);
    await a.poll(passive, 6, false);
    // then
    expect(fetched).toBe(2);
  });
});
