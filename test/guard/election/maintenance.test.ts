import { deriveGuardTimings } from '../../../lib/contracts/timing';
import { Elector } from '../../../lib/guard/election/elector';
import { waitForMaintenance } from '../../../lib/guard/election/maintenance';
import type { Supervisor } from '../../../lib/guard/app/supervisor';
import { FakeClock } from '../../harness/fake-clock';
import { MemoryDb } from '../../harness/memory-store';

import { silent } from '../../harness/silent-log';
const timings = deriveGuardTimings({ failOverIntervalSecs: 6, stopTimeoutSecs: 2 });

/** An app that takes 1.5 s to stop. */
class SlowStopApp implements Supervisor {
  running = false;
  constructor(private readonly clock: FakeClock) {}
  async cleanup(): Promise<void> {}
  async start(): Promise<void> {
    this.running = true;
  }
  kill(): Promise<void> {
    return this.stop();
  }
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.clock.sleep(1500);
    this.running = false;
  }
  async ready(): Promise<boolean> {
    return this.running;
  }
  onExit(): void {}
}

describe('maintenance on', () => {
  it('returns only once the active app has stopped and every guard holds', async () => {
    // given: a active (app running), b passive, both running their loops
    const clock = new FakeClock();
    const db = new MemoryDb(() => clock.now());
    const apps = { a: new SlowStopApp(clock), b: new SlowStopApp(clock) };
    const [a, b] = (['a', 'b'] as const).map((n) => new Elector({ cluster: 'c', node: n, timings, drainSecs: 0, store: db.store('c', n), supervisor: apps[n], clock, log: silent, random: () => 0.5 }));
    const loops = [a.run()];
    await clock.advance(100);
    loops.push(b.run());
    await clock.advance(2000);
    expect(apps.a.running).toBe(true);
    // when
    const cli = db.store('c', 'cli');
    await cli.setMaintenance(true);
    let pending: string[] | undefined;
    void waitForMaintenance(cli, timings, clock, 20000).then((p) => (pending = p));
    // then: not done while the app still stops …
    await clock.advance(1200);
    expect(pending).toBeUndefined();
    // … done once it has
    for (let i = 0; i < 60 && pending === undefined; i++) await clock.advance(100);
    expect(pending).toEqual([]);
    expect(apps.a.running).toBe(false);
    expect([a.snapshot().role, b.snapshot().role]).toEqual(['maintenance', 'maintenance']);
    await Promise.all([a.shutdown(), b.shutdown()]);
    await clock.advance(2000);
    await Promise.all(loops);
  });

  it('says what is still pending when the timeout passes', async () => {
    const clock = new FakeClock();
    const db = new MemoryDb(() => clock.now());
    Object.assign(db, { holder: 'a', term: 3, expiresAt: 60000 });
    db.members.set('a', { role: 'active', term: 3, lastSeen: 0 });
    const p = waitForMaintenance(db.store('c', 'cli'), timings, clock, 1000);
    await clock.advance(1500);
    await expect(p).resolves.toEqual(['a still holds the lease (term 3)', 'a reports active']);
  });
});
