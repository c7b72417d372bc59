import { performance } from 'perf_hooks';

/**
 * Local time for the election loop: the monotonic clock decides every deadline (wall time
 * jumps); wall time is read only to notice that the two diverge (a stepped clock, a VM paused
 * while its monotonic clock stood still). Injected so the loop is unit-testable without sleeping.
 */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock milliseconds (Date.now()): compared with {@link now}, never used for a deadline. */
  wallNow(): number;
  sleep(ms: number): Promise<void>;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  setTimer: (ms, fn) => {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};
