import { deriveGuardTimings, execWatchdogSecs, minMarginSecs, timingProblems, watchdogSecs, type TimingNames } from '../../lib/spec/timing';

const names: TimingNames = {
  failOverIntervalSecs: 'L',
  startupTimeoutSecs: 'startup',
  renewPeriodSecs: 'R',
  queryTimeoutSecs: 'Q',
  renewDeadlineSecs: 'D',
  stopTimeoutSecs: 'S',
  healthCheck: 'hc',
};

describe('guard timing margins (issue 12)', () => {
  it.each([5, 6, 10, 16, 30, 60, 120, 300])('derived timings for L = %i s pass every check, with W inside the margin', (L) => {
    const t = deriveGuardTimings({ failOverIntervalSecs: L });
    expect(timingProblems(t, names)).toEqual([]);
    const margin = L - t.renewDeadlineSecs - t.stopTimeoutSecs;
    expect(margin).toBeGreaterThanOrEqual(Math.max(2, L / 10) - 1e-9);
    expect(t.renewDeadlineSecs + watchdogSecs(t) + t.stopTimeoutSecs).toBeLessThan(L);
    // exec mode's watchdog SIGKILLs the app itself: D + W' < L, with at least half the margin left
    expect(t.renewDeadlineSecs + execWatchdogSecs(t)).toBeLessThanOrEqual(L - margin / 2 + 1e-9);
    expect(execWatchdogSecs(t)).toBeGreaterThanOrEqual(watchdogSecs(t));
  });

  it('the old 1 s default margin (L 6, D 3, S 2) is rejected, naming the keys', () => {
    const problems = timingProblems({ ...deriveGuardTimings({ failOverIntervalSecs: 6 }), renewDeadlineSecs: 3, stopTimeoutSecs: 2 }, names);
    expect(problems).toHaveLength(1);
    expect(problems[0].path).toBe('S');
    expect(problems[0].message).toContain('L − D − S (6s − 3s − 2s = 1s) must be ≥ max(2s, L/10) = 2s');
    expect(minMarginSecs(60)).toBe(6);
  });

  it('the D check counts the renew jitter: R 1, Q 0.5, D 2 passed before, fails now', () => {
    const problems = timingProblems({ failOverIntervalSecs: 10, startupTimeoutSecs: 300, renewPeriodSecs: 1, queryTimeoutSecs: 0.5, renewDeadlineSecs: 2, stopTimeoutSecs: 1 }, names);
    expect(problems.map((p) => p.path)).toEqual(['D']);
  });
});
