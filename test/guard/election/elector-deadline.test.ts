/**
 * The renew-deadline timer on a real event loop can fire a little before the monotonic deadline
 * (libuv schedules on its cached loop time). The elector must then re-arm, not wait for the next
 * renew — which, on a partitioned network, hangs until its connect times out, past D.
 */
import { Elector } from '../../../lib/guard/election/elector';
import type { Supervisor } from '../../../lib/guard/app/supervisor';
import { deriveGuardTimings } from '../../../lib/contracts/timing';
import { FakeClock } from '../../harness/fake-clock';
import { MemoryDb } from '../../harness/memory-store';
import { silent } from '../../harness/silent-log';

/** Timers longer than 5 ms fire 5 ms early, as libuv's can relative to performance.now(). */
class EarlyClock extends FakeClock {
  setTimer(ms: number, fn: () => void): () => void {
    return super.setTimer(ms > 5 ? ms - 5 : ms, fn);
  }
}

class App implements Supervisor {
  running = false;
  async cleanup(): Promise<void> {}
  async start(): Promise<void> {
    this.running = true;
  }
  async stop(): Promise<void> {
    this.running = false;
  }
  async kill(): Promise<void> {
    this.running = false;
  }
  async ready(): Promise<boolean> {
    return this.running;
  }
  onExit(): void {}
}

describe('Elector renew deadline', () => {
  it('fences at D even when the deadline timer fires early and no renew completes', async () => {
    // given: a is active (L 6, R 1, D 3)
    const clock = new EarlyClock();
    const db = new MemoryDb(() => clock.now());
    const app = new App();
    const elector = new Elector({ cluster: 'c', node: 'a', timings: deriveGuardTimings({ failOverIntervalSecs: 6, renewDeadlineSecs: 3 }), drainSecs: 0, store: db.store('c', 'a'), supervisor: app, clock, log: silent });
    await elector.tick();
    await elector.checkReady();
    expect(elector.snapshot()).toMatchObject({ role: 'active', healthy: true });
    // when: no tick runs any more (the next renew hangs on a cut-off network) and D passes
    await clock.advance(2990);
    expect(elector.snapshot().role).toBe('active');
    await clock.advance(10);
    // then: fenced at D by the timer alone, app killed
    expect(elector.snapshot()).toMatchObject({ role: 'fenced', healthy: false });
    expect(app.running).toBe(false);
  });
});
