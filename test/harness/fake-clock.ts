import type { Clock } from '../../lib/guard/election/clock';

/** Lets pending promise callbacks run (a few macrotask turns of the real event loop). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/**
 * A monotonic clock that only moves when a test advances it; timers and sleeps fire in order.
 * Its wall clock runs with it, 1.7e12 ms ahead, unless a test steps one of them alone.
 */
export class FakeClock implements Clock {
  private t = 0;
  private wallOffset = 1_700_000_000_000;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; fn: () => void }> = [];

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.t + this.wallOffset;
  }

  /** Steps the wall clock alone (an NTP step; a resumed VM whose monotonic clock stood still). */
  stepWall(ms: number): void {
    this.wallOffset += ms;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(ms, resolve));
  }

  /** Moves time forward by `ms`, firing due timers (and letting their callbacks settle) in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
      await flush();
    }
    this.t = end;
    await flush();
  }

  /**
   * Moves time forward by `ms` in one step, then fires every timer that came due meanwhile, late
   * (a guard stopped or descheduled that long): each callback sees the new time.
   */
  async jump(ms: number): Promise<void> {
    this.t += ms;
    await flush();
    for (;;) {
      const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      due.fn();
      await flush();
    }
  }
}
