import { clockMarginSecs, deriveGuardTimings, execWatchdogSecs, KILL_CONFIRM_SECS, leaseDeadlines, timingProblems, watchdogSecs, type ServiceMode, type TimingNames } from '../../lib/contracts/timing';

const names: TimingNames = {
  failOverIntervalSecs: 'L',
  startupTimeoutSecs: 'startup',
  renewPeriodSecs: 'R',
  queryTimeoutSecs: 'Q',
  renewDeadlineSecs: 'D',
  stopTimeoutSecs: 'S',
  healthCheck: 'hc',
  serviceMode: 'mode',
};

const MODES: ServiceMode[] = ['exec', 'systemd', 'windows-service'];
const CASES = MODES.flatMap((mode) => [10, 16, 30, 60, 120, 300].map((L) => [mode, L] as const));

describe('guard timing margins', () => {
  it.each(CASES)('derived timings (%s, L = %i s) pass every check: L − D ≥ K + M, and a stalled guard is killed in time', (mode, L) => {
    const t = deriveGuardTimings({ failOverIntervalSecs: L }, mode);
    expect(timingProblems(t, names, undefined, mode)).toEqual([]);
    const K = KILL_CONFIRM_SECS[mode];
    const M = clockMarginSecs(L);
    expect(L - t.renewDeadlineSecs).toBeGreaterThanOrEqual(K + M - 1e-9);
    // systemd's watchdog: a guard stalled just before D is killed W later, its app K after that
    if (mode === 'systemd') expect(t.renewDeadlineSecs + watchdogSecs(t, mode) + K).toBeLessThanOrEqual(L - M + 1e-9);
    // exec mode's heartbeat watchdog kills the app group itself
    expect(t.renewDeadlineSecs + execWatchdogSecs(t) + KILL_CONFIRM_SECS.exec).toBeLessThanOrEqual(L - M / 2 + 1e-9);
  });

  it('the stop timeout is not part of the fence rule: a long graceful stop fits any lease', () => {
    const t = { ...deriveGuardTimings({ failOverIntervalSecs: 10 }, 'systemd'), stopTimeoutSecs: 120 };
    expect(timingProblems(t, names, undefined, 'systemd')).toEqual([]);
  });

  it('L − D < K + M is rejected, naming D, L and the mode', () => {
    // given: L 10, D 6 leaves 4 s; systemd needs K 3 + M 2 = 5 s (exec needs 3 s)
    const t = { ...deriveGuardTimings({ failOverIntervalSecs: 10 }), renewDeadlineSecs: 6 };
    // when
    const problems = timingProblems(t, names, undefined, 'systemd');
    // then
    expect(problems).toHaveLength(1);
    expect(problems[0].path).toBe('D');
    expect(problems[0].message).toContain('L − D (10s − 6s = 4s) must be ≥ K + M = 3s + 2s = 5s (K: kill-confirm bound of systemd mode, set by mode');
    expect(timingProblems(t, names, undefined, 'exec')).toEqual([]);
    expect(clockMarginSecs(60)).toBe(6);
  });

  it('the D check counts the renew jitter: R 1, Q 0.5, D 2 passed before, fails now', () => {
    const problems = timingProblems({ failOverIntervalSecs: 10, startupTimeoutSecs: 300, renewPeriodSecs: 1, queryTimeoutSecs: 0.5, renewDeadlineSecs: 2, stopTimeoutSecs: 1 }, names);
    expect(problems.map((p) => p.path)).toEqual(['D']);
  });

  it('the defaults: L 30 → R 3, Q 1.2, D 15, S 30; L 10 → D 5 / 3 / 3 by mode (systemd keeps 2 s for W)', () => {
    expect(deriveGuardTimings({ failOverIntervalSecs: 30 }, 'systemd')).toMatchObject({ renewPeriodSecs: 3, queryTimeoutSecs: 1.2, renewDeadlineSecs: 15, stopTimeoutSecs: 30 });
    expect(MODES.map((m) => deriveGuardTimings({ failOverIntervalSecs: 10 }, m).renewDeadlineSecs)).toEqual([5, 3, 3]);
    expect(watchdogSecs(deriveGuardTimings({ failOverIntervalSecs: 10 }, 'systemd'))).toBe(1.5);
  });

  it('deadlines are instants counted from the renew send: fence at D, kill confirmed by L − M', () => {
    const t = deriveGuardTimings({ failOverIntervalSecs: 30 }, 'systemd');
    expect(leaseDeadlines(1000, t)).toEqual({ fenceAt: 16_000, killBy: 28_000 });
  });
});
