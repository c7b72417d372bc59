/**
 * A fence is a crash: on the fake clock and the in-memory store, the elector kills (never stops)
 * when it can no longer prove its lease, with the absolute deadline its last successful renew
 * gives, aborts a start in progress, never acquires while its app is not confirmed gone, kills
 * when wall and monotonic time diverge, and keeps readiness out of the renew loop.
 */
import { Elector } from '../../../lib/guard/election/elector';
import type { LeaseStore } from '../../../lib/guard/lease/store';
import type { ExitListener, Supervisor } from '../../../lib/guard/app/supervisor';
import { deriveGuardTimings, type GuardTimings } from '../../../lib/contracts/timing';
import { FakeClock, flush } from '../../harness/fake-clock';
import { MemoryDb } from '../../harness/memory-store';
import { silent } from '../../harness/silent-log';

/** Records every start, stop and kill with its deadline and the time it was asked at. */
class RecordingApp implements Supervisor {
  running = false;
  launches = 0;
  isReady = true;
  /** ready() never settles (a probe that hangs). */
  readyHangs = false;
  /** How many kills reject before one is confirmed. */
  killFailures = 0;
  stopFails = false;
  validUntil?: number;
  readonly calls: Array<{ op: 'start' | 'stop' | 'kill'; deadline?: number; at: number }> = [];
  private gate?: Promise<void>;
  private open?: () => void;

  constructor(private readonly clock: FakeClock) {}

  /** Makes the next starts wait (before their launch) until {@link finishStart}. */
  holdStarts(): void {
    this.gate = new Promise((r) => (this.open = r));
  }

  finishStart(): void {
    this.open?.();
    this.gate = undefined;
  }

  async cleanup(): Promise<void> {}
  async start(_env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    this.calls.push({ op: 'start', at: this.clock.now() });
    if (this.gate) await this.gate;
    // the contract: the signal is checked right before the launch
    if (signal?.aborted) throw new DOMException('start aborted', 'AbortError');
    this.running = true;
    this.launches++;
  }
  async stop(deadline: number): Promise<void> {
    this.calls.push({ op: 'stop', deadline, at: this.clock.now() });
    if (this.stopFails) throw new Error('the app did not stop');
    this.running = false;
  }
  async kill(deadline: number): Promise<void> {
    this.calls.push({ op: 'kill', deadline, at: this.clock.now() });
    if (this.killFailures > 0) {
      this.killFailures--;
      throw new Error('a process in the group is still there');
    }
    this.running = false;
  }
  setValidUntil(instant: number): void {
    this.validUntil = instant;
  }
  ready(): Promise<boolean> {
    if (this.readyHangs) return new Promise(() => undefined);
    return Promise.resolve(this.running && this.isReady);
  }
  private exitListener?: ExitListener;
  onExit(listener: ExitListener): void {
    this.exitListener = listener;
  }
  /** The app ends by itself, or killed by the backstop outside the guard's loop (`byBackstop`). */
  exitByItself(detail: string, byBackstop = false): void {
    this.running = false;
    this.exitListener?.(detail, byBackstop);
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}

// L 6, R 1, Q 0.5, D 3, S 1, exec (K 1, M 2): L − D = 3 = K + M. killBy = renew send + L − M = send + 4 s.
const timings: GuardTimings = { ...deriveGuardTimings({ failOverIntervalSecs: 6, queryTimeoutSecs: 0.5, renewDeadlineSecs: 3, stopTimeoutSecs: 1 }), startupTimeoutSecs: 300 };

function setup(nodes = ['a', 'b'], t: GuardTimings = timings) {
  const clock = new FakeClock();
  const db = new MemoryDb(() => clock.now());
  const guards = nodes.map((node) => {
    const app = new RecordingApp(clock);
    const elector = new Elector({ cluster: 'c', node, timings: t, serviceMode: 'exec', drainSecs: 0, store: db.store('c', node), supervisor: app, clock, log: silent });
    return { node, app, elector };
  });
  return { clock, db, guards };
}

/** a wins the lease at t = 0 and is active (app ready). */
async function activeGuard() {
  const s = setup();
  const [a] = s.guards;
  await a.elector.tick();
  await a.elector.checkReady();
  expect(a.elector.snapshot()).toMatchObject({ role: 'active', healthy: true });
  return { ...s, a, b: s.guards[1] };
}

describe('Elector: a fence is a crash', () => {
  it('past D the app is killed, never stopped gracefully', async () => {
    // given
    const { clock, db, a } = await activeGuard();
    // when: the database goes away and D passes
    db.down = true;
    await clock.advance(3000);
    // then
    expect(a.elector.snapshot()).toMatchObject({ role: 'fenced', healthy: false });
    expect(a.app.ops()).toEqual(['start', 'kill']);
    expect(a.app.running).toBe(false);
  });

  it('a fence timer that fires 20 s late still kills with the instant the last renew proves, not now + S', async () => {
    // given: a's last successful renew is sent at 1 s
    const { clock, db, a } = await activeGuard();
    await clock.advance(1000);
    await a.elector.tick();
    db.down = true;
    // when: the guard is descheduled (SIGSTOP, swap, a paused VM) across D and wakes at 21 s
    await clock.jump(20_000);
    // then: killed at 21 s with the deadline 1 s + L − M = 5 s (already past: kill at once, no grace)
    const kill = a.app.calls.find((c) => c.op === 'kill');
    expect(kill).toEqual({ op: 'kill', deadline: 5000, at: 21_000 });
    expect(a.app.calls.filter((c) => c.op === 'stop')).toEqual([]);
    // and the backstop outside the event loop was told the fence instant of that renew: 1 s + D
    expect(a.app.validUntil).toBe(4000);
  });

  it('an app exit that comes past D, before the fence timer ran (the watchdog killed it), is the fence, not an app failure', async () => {
    // given: a's last successful renew is sent at 1 s (D: fence at 4 s); the database is gone
    const { clock, db, a } = await activeGuard();
    await clock.advance(1000);
    await a.elector.tick();
    db.down = true;
    // when: the watchdog's kill is noticed at 4.5 s, before the late fence timer runs
    clock.setTimer(2999, () => a.app.exitByItself('exited with SIGKILL'));
    await clock.jump(3500);
    // then: fenced (no release, no back-off), and the app's end confirmed by a kill
    expect(a.elector.snapshot()).toMatchObject({ role: 'fenced', healthy: false });
    expect(a.app.ops()).toEqual(['start', 'kill']);
  });

  it('the backstop’s kill seen a few ms before D (its instant rounds down) is the fence, not an app failure', async () => {
    // given: a's last successful renew is sent at 1 s (D: fence at 4 s); the database is gone
    const { clock, db, a } = await activeGuard();
    await clock.advance(1000);
    await a.elector.tick();
    db.down = true;
    // when: the watchdog's kill, reported as the backstop's, reaches the guard at 3.99 s
    clock.setTimer(2990, () => a.app.exitByItself('exited with SIGKILL: killed by the watchdog (kill instant passed)', true));
    await clock.advance(2995);
    // then: fenced at once (no drain, no release, no back-off)
    expect(a.elector.snapshot()).toMatchObject({ role: 'fenced', healthy: false });
    expect(a.app.ops()).toEqual(['start', 'kill']);
  });

  it('the app’s own exit before D is an app failure: the node drains and releases, it is not fenced', async () => {
    // given
    const { clock, a } = await activeGuard();
    await clock.advance(1000);
    await a.elector.tick();
    // when
    a.app.exitByItself('exited with code 3');
    await clock.advance(100);
    // then
    expect(a.elector.snapshot().role).not.toBe('fenced');
    expect(a.app.ops()).not.toContain('kill');
  });

  it('a renew that matched no row, found late, kills with the last successful renew’s deadline', async () => {
    // given: last successful renew sent at 1 s; then another node took the lease
    const { clock, db, a } = await activeGuard();
    await clock.advance(1000);
    await a.elector.tick();
    Object.assign(db, { holder: 'x', term: 7 });
    // when: the next renew goes out at 2.5 s and matches no row
    await clock.advance(1500);
    await a.elector.tick();
    // then
    expect(a.elector.snapshot()).toMatchObject({ role: 'fenced', healthy: false });
    expect(a.app.calls.at(-1)).toEqual({ op: 'kill', deadline: 5000, at: 2500 });
    expect(db.events.map((e) => e.event)).toEqual(['became-active', 'lost-lease']);
  });

  it('a start in progress when the fence comes is aborted: nothing launches', async () => {
    // given: a wins the lease; its start is still in its pre-launch steps
    const { clock, db, guards } = setup(['a']);
    const [a] = guards;
    a.app.holdStarts();
    await a.elector.tick();
    expect(a.elector.snapshot().role).toBe('starting');
    // when: the database goes away, D passes, then the start's pre-launch steps finish
    db.down = true;
    await clock.advance(3000);
    a.app.finishStart();
    await flush();
    // then: the kill did not wait behind the start, and the start launched nothing
    expect(a.app.ops()).toEqual(['start', 'kill']);
    expect(a.app.calls[1]).toMatchObject({ deadline: 4000, at: 3000 });
    expect(a.app.launches).toBe(0);
    expect(a.app.running).toBe(false);
  });

  it('a node whose kill is not confirmed never acquires, reports it, and keeps killing until confirmed', async () => {
    // given: a is fenced at D and its kills are not confirmed
    const { clock, db, a, b } = await activeGuard();
    a.app.killFailures = 4;
    db.down = true;
    await clock.advance(3000);
    expect(a.elector.snapshot()).toMatchObject({ role: 'fenced', appUnconfirmed: true });
    // when: the database is back and the lease has run out (6 s); a polls first
    db.down = false;
    await clock.advance(3500);
    await a.elector.tick();
    // then: a did not take the lease, b does
    expect(db.holder).toBe('a');
    expect(a.elector.snapshot()).toMatchObject({ role: 'fenced', appUnconfirmed: true, healthy: false });
    await b.elector.tick();
    expect(b.elector.snapshot()).toMatchObject({ role: 'starting', term: 2 });
    // and a keeps killing (once per R) until the app is confirmed gone
    await clock.advance(2000);
    expect(a.app.ops().filter((o) => o === 'kill').length).toBe(5);
    expect(a.elector.snapshot().appUnconfirmed).toBe(false);
    await a.elector.tick();
    expect(a.elector.snapshot().role).toBe('passive');
  });

  it('a planned stop that is not confirmed keeps the lease renewed with 503 and escalates to a kill', async () => {
    // given: a active; its graceful stop will not be confirmed, nor its first kill
    const { clock, db, a } = await activeGuard();
    a.app.stopFails = true;
    a.app.killFailures = 2;
    // when
    const done = a.elector.stepDown();
    await flush();
    // then: the stop got S from now, the escalation the lease's kill deadline (send 0 + 4 s)
    expect(a.app.calls.slice(1)).toEqual([
      { op: 'stop', deadline: 1000, at: 0 },
      { op: 'kill', deadline: 4000, at: 0 },
    ]);
    // and meanwhile a still leads, renews and answers 503
    await clock.advance(1000);
    await a.elector.tick();
    expect(db.expiresAt).toBe(7000);
    expect(a.elector.snapshot()).toMatchObject({ role: 'draining', healthy: false, appUnconfirmed: true });
    // once a retried kill is confirmed (one per R), the lease is released
    await clock.advance(1000);
    await done;
    expect(a.app.ops().filter((o) => o === 'kill').length).toBe(3);
    expect(db.expiresAt).toBeLessThanOrEqual(clock.now());
    expect(a.elector.snapshot()).toMatchObject({ role: 'backoff', appUnconfirmed: false });
  });
});

describe('Elector: clocks', () => {
  it('kills at once when the wall clock jumps away from the monotonic clock by more than M (a paused VM)', async () => {
    // given: a active, last renew sent at 1 s
    const { clock, a } = await activeGuard();
    await clock.advance(1000);
    await a.elector.tick();
    // when: a step within M changes nothing (the next renew takes it as the new baseline) …
    clock.stepWall(1900);
    await a.elector.tick();
    expect(a.elector.snapshot()).toMatchObject({ role: 'active', healthy: true });
    // … a VM resumed after 40 s whose monotonic clock stood still: wall jumps, monotonic did not
    clock.stepWall(40_000);
    await a.elector.tick();
    // then: fenced before the renew is sent, killed with the deadline of the last renew (sent at 1 s)
    expect(a.elector.snapshot()).toMatchObject({ role: 'fenced', healthy: false });
    expect(a.app.calls.at(-1)).toEqual({ op: 'kill', deadline: 5000, at: 1000 });
  });

  it('a /health probe is enough to notice the divergence', async () => {
    const { clock, a } = await activeGuard();
    clock.stepWall(-2500);
    expect(a.elector.snapshot()).toMatchObject({ role: 'fenced', healthy: false });
    await flush();
    expect(a.app.ops()).toEqual(['start', 'kill']);
  });
});

describe('Elector: liveness', () => {
  it('an app that was ready and stays unready for longer than L steps down, well before the startup timeout', async () => {
    // given: a active (startup timeout 300 s), then its app hangs without exiting
    const { clock, db, a, b } = await activeGuard();
    a.app.isReady = false;
    // when: renews and probes go on for 7 s
    for (let i = 0; i < 7; i++) {
      await clock.advance(1000);
      await a.elector.tick();
      await a.elector.checkReady();
    }
    await flush();
    // then: a stepped down (a planned stop: its lease was still renewed) and b can take over
    expect(a.app.ops()).toEqual(['start', 'stop']);
    expect(a.elector.snapshot().role).toBe('backoff');
    expect(db.events.map((e) => e.event)).toContain('stepped-down');
    await b.elector.tick();
    expect(b.elector.snapshot()).toMatchObject({ role: 'starting', holder: 'b' });
  });

  it('a readiness probe that hangs never delays a renew', async () => {
    // given: a's readiness probe never answers
    const { clock, db, guards } = setup(['a']);
    const [a] = guards;
    a.app.readyHangs = true;
    const loop = a.elector.run();
    // when: 10 s pass (D is 3 s)
    for (let i = 0; i < 100; i++) await clock.advance(100);
    // then: renews went on (about one per R): a still holds the lease, not fenced
    expect(a.elector.snapshot().role).toBe('starting');
    expect(db.statements).toBeGreaterThanOrEqual(9);
    expect(db.expiresAt).toBeGreaterThan(clock.now() + 4000);
    expect(a.app.ops()).not.toContain('kill');
    await a.elector.shutdown();
    await loop;
  });
});

describe('Elector: a lease held under its own name', () => {
  it('is handed back after a kill whose deadline is the lease’s end as the poll saw it, less M', async () => {
    // given: the guard restarted while its lease (term 5) has 6 s left
    const clock = new FakeClock();
    const db = new MemoryDb(() => clock.now());
    Object.assign(db, { holder: 'a', term: 5, expiresAt: 6000 });
    const app = new RecordingApp(clock);
    const store: LeaseStore = db.store('c', 'a');
    const a = new Elector({ cluster: 'c', node: 'a', timings, drainSecs: 0, store, supervisor: app, clock, log: silent });
    // when
    await a.tick();
    // then
    expect(app.calls).toEqual([{ op: 'kill', deadline: 4000, at: 0 }]);
    expect(db.expiresAt).toBeLessThanOrEqual(clock.now());
  });
});

/** Node a alone, its acquire (poll) wrapped: `around` runs the real statement and may delay or pause it. */
function acquiringGuard(around: (clock: FakeClock, statement: () => ReturnType<LeaseStore['poll']>) => ReturnType<LeaseStore['poll']>) {
  const clock = new FakeClock();
  const db = new MemoryDb(() => clock.now());
  const real = db.store('c', 'a');
  const store = Object.assign(Object.create(real) as LeaseStore, {
    poll: (...args: Parameters<LeaseStore['poll']>) => around(clock, () => real.poll(...args)),
  });
  const app = new RecordingApp(clock);
  const a = new Elector({ cluster: 'c', node: 'a', timings, drainSecs: 0, store, supervisor: app, clock, log: silent });
  return { clock, app, a };
}

describe('Elector: clocks around the acquire', () => {
  it('a slow acquire is no divergence: the baseline is taken at the send, on both clocks at once', async () => {
    // given: the acquire's reply comes 2.5 s after its send (more than M = 2 s; a real one is bounded by Q)
    const { clock, app, a } = acquiringGuard(async (clock, statement) => {
      await clock.sleep(2500);
      return statement();
    });
    // when: the acquire completes, a renew follows at once
    const tick = a.tick();
    await clock.advance(2500);
    await tick;
    await a.tick();
    await a.checkReady();
    // then: active, not fenced
    expect(a.snapshot()).toMatchObject({ role: 'active', healthy: true });
    expect(app.ops()).toEqual(['start']);
  });

  it('a VM paused during the acquire (the wall clock jumped, the monotonic did not) is fenced at the first check', async () => {
    // given: the acquire's statement runs, then the VM is paused for 30 s before the reply
    const { app, a } = acquiringGuard(async (clock, statement) => {
      const r = await statement();
      clock.stepWall(30_000);
      return r;
    });
    // when
    await a.tick();
    // then: the first /health probe finds the divergence: fenced, the app just started is killed
    expect(a.snapshot()).toMatchObject({ role: 'fenced', healthy: false });
    await flush();
    expect(app.ops()).toEqual(['start', 'kill']);
    expect(app.running).toBe(false);
  });
});
