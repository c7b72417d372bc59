import { deriveGuardTimings } from '../../../lib/contracts/timing';
import { Elector, type RoleChange } from '../../../lib/guard/election/elector';
import type { Supervisor } from '../../../lib/guard/app/supervisor';
import { FakeClock, flush } from '../../harness/fake-clock';
import { MemoryDb } from '../../harness/memory-store';

/** Records what the elector asks of the app. */
class FakeApp implements Supervisor {
  running = false;
  isReady = true;
  starts: Array<Readonly<Record<string, string>>> = [];
  stops = 0;
  private exitListener?: (d: string) => void;
  async cleanup(): Promise<void> {}
  async start(env: Readonly<Record<string, string>>): Promise<void> {
    this.running = true;
    this.starts.push(env);
  }
  async stop(): Promise<void> {
    if (this.running) this.stops++;
    this.running = false;
  }
  async kill(): Promise<void> {
    this.running = false;
  }
  async ready(): Promise<boolean> {
    return this.running && this.isReady;
  }
  onExit(l: (d: string) => void): void {
    this.exitListener = l;
  }
  crash(): void {
    this.running = false;
    this.exitListener?.('exit code 1');
  }
}

import { silent } from '../../harness/silent-log';
// L = 6 s: R = 1, Q = 0.5, D = 3, S = 1, exec (L − D = 3 s = K + M, the smallest the elector accepts)
const timings = { ...deriveGuardTimings({ failOverIntervalSecs: 6, queryTimeoutSecs: 0.5, renewDeadlineSecs: 3, stopTimeoutSecs: 1 }), startupTimeoutSecs: 5 };

function setup(nodes = ['a', 'b'], drainSecs = 0) {
  const clock = new FakeClock();
  const db = new MemoryDb(() => clock.now());
  const changes: Record<string, RoleChange[]> = {};
  const guards = nodes.map((node) => {
    const app = new FakeApp();
    changes[node] = [];
    const elector = new Elector({
      cluster: 'c',
      node,
      timings,
      drainSecs,
      store: db.store('c', node),
      supervisor: app,
      clock,
      log: silent,
      onChange: (c) => changes[node].push(c),
    });
    return { node, app, elector };
  });
  const healthy = () => guards.filter((g) => g.elector.snapshot().healthy).map((g) => g.node);
  return { clock, db, guards, changes, healthy };
}

describe('Elector', () => {
  it('acquires a free lease, starts the app with the term, is healthy once ready', async () => {
    // given
    const { guards, healthy, changes } = setup(['a', 'b']);
    const [a, b] = guards;
    // when
    await a.elector.tick();
    await b.elector.tick();
    // then: a holds the lease but is not ready yet
    expect(a.elector.snapshot()).toMatchObject({ role: 'starting', term: 1, holder: 'a', healthy: false });
    expect(a.app.starts).toEqual([{ FAILOVER_GUARD_TERM: '1', FAILOVER_GUARD_NODE: 'a', FAILOVER_GUARD_CLUSTER: 'c' }]);
    expect(b.elector.snapshot()).toMatchObject({ role: 'passive', holder: 'a', term: 1 });
    expect(b.app.starts).toEqual([]);
    await a.elector.checkReady();
    expect(healthy()).toEqual(['a']);
    expect(changes.a.map((c) => c.event)).toEqual(['became-active', 'ready']);
  });

  it('answers 503 at the renew deadline and kills the app, before the lease expires', async () => {
    // given: a is active
    const { clock, db, guards, healthy } = setup(['a', 'b']);
    const [a, b] = guards;
    await a.elector.tick();
    await a.elector.checkReady();
    // when: the database goes away
    db.down = true;
    await clock.advance(1000);
    await a.elector.tick();
    await clock.advance(1999);
    // then: still inside D (3 s) …
    expect(healthy()).toEqual(['a']);
    // … and at D fenced at once, without waiting for a tick
    await clock.advance(1);
    expect(healthy()).toEqual([]);
    expect(a.elector.snapshot().role).toBe('fenced');
    expect(a.app.running).toBe(false);
    // and b cannot take over before L (6 s) in DB time
    db.down = false;
    await clock.advance(2900);
    await b.elector.tick();
    expect(b.elector.snapshot().role).toBe('passive');
    await clock.advance(200);
    await b.elector.tick();
    expect(b.elector.snapshot()).toMatchObject({ role: 'starting', term: 2 });
  });

  it('kills the app when a renew finds the lease taken (term moved on)', async () => {
    // given
    const { db, guards } = setup(['a']);
    const [a] = guards;
    await a.elector.tick();
    // when: someone else holds a newer term (e.g. after a pause longer than L)
    db.holder = 'x';
    db.term = 7;
    await a.elector.tick();
    // then
    expect(a.elector.snapshot()).toMatchObject({ role: 'fenced', healthy: false });
    expect(a.app.running).toBe(false);
    expect(db.events.map((e) => e.event)).toEqual(['became-active', 'lost-lease']);
  });

  it('keeps renewing once per period, one statement each', async () => {
    const { clock, db, guards } = setup(['a']);
    const [a] = guards;
    await a.elector.tick();
    await a.elector.checkReady();
    await flush();
    const before = db.statements;
    for (let i = 0; i < 10; i++) {
      await clock.advance(1000);
      await a.elector.tick();
      await a.elector.checkReady(); // readiness never costs a statement
    }
    expect(db.statements - before).toBe(10);
    expect(a.elector.snapshot().leaseRemainingMs).toBe(6000);
  });

  it('releases and backs off when the app is not ready within the startup timeout', async () => {
    // given
    const { clock, db, guards, changes } = setup(['a', 'b']);
    const [a, b] = guards;
    a.app.isReady = false;
    await a.elector.tick();
    // when: 5 s pass with renews and failed probes
    for (let i = 0; i < 6; i++) {
      await clock.advance(1000);
      await a.elector.tick();
      await a.elector.checkReady();
    }
    await flush();
    // then
    expect(a.app.running).toBe(false);
    expect(a.elector.snapshot().role).toBe('backoff');
    expect(db.expiresAt).toBeLessThanOrEqual(clock.now());
    expect(changes.a.map((c) => c.event)).toContain('startup-timeout');
    await b.elector.tick();
    await a.elector.tick();
    expect(b.elector.snapshot()).toMatchObject({ role: 'starting', term: 2 });
  });

  it('steps down: 503 at once, drains, stops, releases, and lets another node take over', async () => {
    // given: a active with a 2 s drain
    const { clock, db, guards, healthy } = setup(['a', 'b'], 2);
    const [a, b] = guards;
    await a.elector.tick();
    await a.elector.checkReady();
    // when
    const done = a.elector.stepDown();
    await flush();
    // then: 503 immediately, app still running during the drain, lease still held
    expect(healthy()).toEqual([]);
    expect(a.app.running).toBe(true);
    await clock.advance(1000);
    await a.elector.tick(); // renews continue during the drain
    expect(db.holder).toBe('a');
    await clock.advance(1000);
    await done;
    expect(a.app.running).toBe(false);
    expect(a.elector.snapshot().role).toBe('backoff');
    // a does not win it straight back; b does
    await a.elector.tick();
    expect(a.elector.snapshot().role).toBe('backoff');
    await b.elector.tick();
    await b.elector.checkReady();
    expect(healthy()).toEqual(['b']);
  });

  it('hands over on an app crash', async () => {
    const { guards } = setup(['a', 'b']);
    const [a, b] = guards;
    await a.elector.tick();
    await a.elector.checkReady();
    a.app.crash();
    await flush();
    await b.elector.tick();
    expect(b.elector.snapshot().role).toBe('starting');
  });

  it('stops the app and holds in maintenance; resumes after', async () => {
    // given
    const { clock, db, guards, changes } = setup(['a', 'b']);
    const [a, b] = guards;
    await a.elector.tick();
    await a.elector.checkReady();
    // when
    await db.store('c', 'cli').setMaintenance(true);
    await clock.advance(1000);
    await a.elector.tick();
    await flush();
    await clock.advance(1000);
    await a.elector.tick();
    await b.elector.tick();
    // then
    expect(a.app.running).toBe(false);
    expect([a.elector.snapshot().role, b.elector.snapshot().role]).toEqual(['maintenance', 'maintenance']);
    expect(changes.b.map((c) => c.event)).toEqual(['maintenance-on']);
    // when maintenance ends
    await db.store('c', 'cli').setMaintenance(false);
    await clock.advance(1000);
    await b.elector.tick();
    expect(b.elector.snapshot().role).toBe('starting');
  });

  it('on shutdown releases the lease so a passive node takes over without waiting for L', async () => {
    const { db, guards } = setup(['a', 'b']);
    const [a, b] = guards;
    await a.elector.tick();
    await a.elector.checkReady();
    await a.elector.shutdown();
    expect(a.app.running).toBe(false);
    expect(db.events.map((e) => e.event)).toContain('shutdown');
    await b.elector.tick();
    expect(b.elector.snapshot().role).toBe('starting');
  });

  it('never has two healthy nodes across a pause longer than L', async () => {
    // given: a active, then "paused" (no ticks, no timers) for 8 s
    const { clock, guards, healthy } = setup(['a', 'b']);
    const [a, b] = guards;
    await a.elector.tick();
    await a.elector.checkReady();
    // when: b keeps polling while a is silent
    for (let i = 0; i < 8; i++) {
      await clock.advance(1000);
      await b.elector.tick();
      await b.elector.checkReady();
      expect(healthy().length).toBeLessThanOrEqual(1);
    }
    await a.elector.tick();
    // then
    expect(healthy()).toEqual(['b']);
    expect(a.app.running).toBe(false);
  });

  it('schedules a passive poll at the expiry of a lease whose holder stopped renewing', async () => {
    // given: a won the lease at t = 0 (expires at 6 s) and then went silent
    const { clock, guards } = setup(['a', 'b']);
    const [a, b] = guards;
    await a.elector.tick();
    await clock.advance(3000);
    await b.elector.tick();
    // then: 3 s left > R: the normal period
    expect(b.elector.nextTickAt(3000, 1000)).toBe(4000);
    // when: 0.5 s left at the next poll
    await clock.advance(2500);
    await b.elector.tick();
    // then: poll right at the expiry (+ 50 ms), not a full period later
    expect(b.elector.nextTickAt(5500, 1000)).toBe(6050);
    await clock.advance(550);
    await b.elector.tick();
    expect(b.elector.snapshot()).toMatchObject({ role: 'starting', holder: 'b' });
    // and a leader keeps its period
    expect(b.elector.nextTickAt(6050, 1000)).toBe(7050);
  });
});

describe('Elector debug log', () => {
  it('writes one line per tick (role, term, ms since the renew, ms left to D) and none for /health', async () => {
    // given: a logger with debug, a leader and a passive node
    const clock = new FakeClock();
    const db = new MemoryDb(() => clock.now());
    const lines: Array<{ node: string; obj: Record<string, unknown>; msg: string }> = [];
    const make = (node: string) =>
      new Elector({
        cluster: 'c',
        node,
        timings,
        drainSecs: 0,
        store: db.store('c', node),
        supervisor: new FakeApp(),
        clock,
        log: { ...silent, debug: (obj, msg) => lines.push({ node, obj: obj as Record<string, unknown>, msg }) },
      });
    const [a, b] = [make('a'), make('b')];
    await a.tick();
    await b.tick();
    // when: 400 ms later the database is down, so the leader's renew fails; probes of /health in between
    await clock.advance(400);
    a.snapshot();
    b.snapshot();
    db.down = true;
    await a.tick();
    // then: one line per tick, none per probe; the failed renew shows the time since the last good one
    expect(lines).toEqual([
      { node: 'a', msg: 'tick', obj: { role: 'starting', term: 1, sinceRenewMs: 0, deadlineLeftMs: 3000 } },
      { node: 'b', msg: 'tick', obj: { role: 'passive', term: 1, sinceRenewMs: null, deadlineLeftMs: null } },
      { node: 'a', msg: 'tick', obj: { role: 'starting', term: 1, sinceRenewMs: 400, deadlineLeftMs: 2600 } },
    ]);
  });
});
