/**
 * Failures of the election loop around supervision, on the fake clock and the in-memory
 * store: slow starts, step-down during a start, a lease held under the node's own name, an
 * acquire landing during shutdown, and a database outage.
 */
import { deriveGuardTimings } from '../../../lib/contracts/timing';
import { Elector } from '../../../lib/guard/election/elector';
import type { LeaseStore } from '../../../lib/guard/lease/store';
import type { Supervisor } from '../../../lib/guard/app/supervisor';
import { FakeClock, flush } from '../../harness/fake-clock';
import { MemoryDb } from '../../harness/memory-store';

/** An app whose start completes only when the test says so. */
class SlowApp implements Supervisor {
  running = false;
  readonly ops: string[] = [];
  private gates: Array<() => void> = [];
  async cleanup(): Promise<void> {}
  async start(_env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    this.ops.push('start');
    await new Promise<void>((r) => this.gates.push(r));
    // the contract: the signal is checked right before the launch
    if (signal?.aborted) {
      this.ops.push('start aborted');
      throw new DOMException('start aborted', 'AbortError');
    }
    this.running = true;
    this.ops.push('started');
  }
  async stop(): Promise<void> {
    this.ops.push(this.running ? 'stop' : 'stop (not running)');
    this.running = false;
  }
  async kill(): Promise<void> {
    this.ops.push(this.running ? 'kill' : 'kill (not running)');
    this.running = false;
  }
  async ready(): Promise<boolean> {
    return this.running;
  }
  onExit(): void {}
  /** Lets the oldest pending start complete. */
  finishStart(): void {
    this.gates.shift()?.();
  }
}

const logs: string[] = [];
const log = { info: () => undefined, warn: (_o: object, m: string) => void logs.push(m), error: (_o: object, m: string) => void logs.push(m) };
// L = 6 s: R = 1, Q = 0.5, D = 3, S = 1
const timings = deriveGuardTimings({ failOverIntervalSecs: 6, queryTimeoutSecs: 0.5, renewDeadlineSecs: 3, stopTimeoutSecs: 1 });

function guard(clock: FakeClock, store: LeaseStore, node: string, app: Supervisor = new SlowApp()) {
  return new Elector({ cluster: 'c', node, timings, drainSecs: 0, store, supervisor: app, clock, log });
}

/** Node a has won a free lease; its app start hangs until `app.finishStart()`. */
async function startingGuard() {
  const clock = new FakeClock();
  const db = new MemoryDb(() => clock.now());
  const app = new SlowApp();
  const a = guard(clock, db.store('c', 'a'), 'a', app);
  void a.tick();
  await flush();
  return { clock, db, app, a };
}

beforeEach(() => (logs.length = 0));

describe('Elector supervision', () => {
  it('a start slower than D: the fence kills at once and the start, aborted, launches nothing', async () => {
    // given: a wins the lease, its app start hangs
    const { clock, db, app, a } = await startingGuard();
    expect(a.snapshot().role).toBe('starting');
    // when: the database goes away, D passes (fence), then the start's pre-launch steps finish
    db.down = true;
    await clock.advance(3000);
    expect(a.snapshot().role).toBe('fenced');
    app.finishStart();
    await flush();
    // then: the app does not run on a fenced node; the kill did not wait for the start
    expect(app.running).toBe(false);
    expect(app.ops).toEqual(['start', 'kill (not running)', 'start aborted']);
  });

  it('renews go on while the app starts slowly (the start is not awaited inside the lease lock)', async () => {
    // given
    const { clock, app, a } = await startingGuard();
    // when: 5 s of renews (longer than D = 3 s) before the start completes
    for (let i = 0; i < 5; i++) {
      await clock.advance(1000);
      void a.tick();
      await flush();
    }
    app.finishStart();
    await flush();
    await a.checkReady();
    // then: never fenced; active with the app running
    expect(a.snapshot()).toMatchObject({ role: 'active', healthy: true, term: 1 });
    expect(app.running).toBe(true);
  });

  it('step-down during a start: the app is stopped after the start, the lease released', async () => {
    // given
    const { clock, db, app, a } = await startingGuard();
    // when
    const stepped = a.stepDown();
    await flush();
    app.finishStart();
    await stepped;
    await flush();
    // then
    expect(app.running).toBe(false);
    expect(a.snapshot().role).toBe('backoff');
    expect(db.expiresAt).toBeLessThanOrEqual(clock.now());
  });

  it('maintenance during a start: the app ends stopped', async () => {
    // given
    const { clock, db, app, a } = await startingGuard();
    // when: maintenance is switched on; the next renew sees it; then the start completes
    db.maintenance = true;
    await clock.advance(1000);
    void a.tick();
    await flush();
    app.finishStart();
    await flush();
    await clock.advance(10);
    // then
    expect(app.running).toBe(false);
    expect(a.snapshot().role).toBe('maintenance');
  });

  it('a lease left under its own name by an earlier run is handed back at once, app killed first', async () => {
    // given: the guard restarted while its lease (term 5) has 6 s left
    const clock = new FakeClock();
    const db = new MemoryDb(() => clock.now());
    Object.assign(db, { holder: 'a', term: 5, expiresAt: 6000 });
    const app = new SlowApp();
    const a = guard(clock, db.store('c', 'a'), 'a', app);
    const b = guard(clock, db.store('c', 'b'), 'b');
    // when
    await a.tick();
    await clock.advance(100);
    await b.tick();
    // then: b did not wait for the 6 s
    expect(app.ops[0]).toBe('kill (not running)');
    expect(b.snapshot()).toMatchObject({ role: 'starting', term: 6, holder: 'b' });
  });

  it('an acquire whose reply was lost: the next poll hands the lease back', async () => {
    // given: the acquire lands in the database but its reply never arrives
    const clock = new FakeClock();
    const db = new MemoryDb(() => clock.now());
    const real = db.store('c', 'a');
    let loseReply = true;
    const store = Object.assign(Object.create(real) as LeaseStore, {
      poll: async (...args: Parameters<LeaseStore['poll']>) => {
        const r = await real.poll(...args);
        if (loseReply) {
          loseReply = false;
          throw new Error('connection reset');
        }
        return r;
      },
    });
    const a = guard(clock, store, 'a');
    const b = guard(clock, db.store('c', 'b'), 'b');
    await a.tick();
    expect(db.holder).toBe('a');
    // when
    await clock.advance(200);
    await a.tick();
    await b.tick();
    // then
    expect(b.snapshot()).toMatchObject({ role: 'starting', holder: 'b', term: 2 });
  });

  it('an acquire landing during shutdown is handed back, the app never started', async () => {
    // given: a poll is in flight when SIGTERM arrives
    const clock = new FakeClock();
    const db = new MemoryDb(() => clock.now());
    const real = db.store('c', 'a');
    let answer!: () => void;
    const store = Object.assign(Object.create(real) as LeaseStore, {
      poll: async (...args: Parameters<LeaseStore['poll']>) => {
        await new Promise<void>((r) => (answer = r));
        return real.poll(...args);
      },
    });
    const app = new SlowApp();
    const a = guard(clock, store, 'a', app);
    const ticked = a.tick();
    await flush();
    // when
    const down = a.shutdown();
    await flush();
    answer();
    await ticked;
    await down;
    // then: the lease is free for the others now
    expect(db.holder).toBe('a');
    expect(db.expiresAt).toBeLessThanOrEqual(clock.now());
    expect(app.ops).not.toContain('start');
  });

  it('a database outage does not turn the loop into a hot loop, and the warning is rate-limited', async () => {
    // given: a passive guard saw a lease that has expired since; the database refuses at once
    const clock = new FakeClock();
    const db = new MemoryDb(() => clock.now());
    Object.assign(db, { holder: 'x', term: 3, expiresAt: 500 });
    const real = db.store('c', 'a');
    const store = Object.assign(Object.create(real) as LeaseStore, {
      poll: async (...args: Parameters<LeaseStore['poll']>) => {
        // a refused connection comes back on a later event-loop turn, as a socket error does
        if (db.down) await new Promise((r) => setImmediate(r));
        return real.poll(...args);
      },
    });
    const a = guard(clock, store, 'a');
    await a.tick();
    db.down = true;
    const before = db.statements;
    // when: 10 s of outage
    const loop = a.run();
    for (let i = 0; i < 100; i++) await clock.advance(100);
    const polls = db.statements - before;
    db.down = false;
    await a.shutdown();
    await loop;
    // then: about one poll per R once backed off (the first retries come faster), one warning
    expect(polls).toBeLessThanOrEqual(20);
    expect(polls).toBeGreaterThanOrEqual(8);
    expect(logs.filter((m) => m === 'poll failed')).toHaveLength(1);
  });
});
