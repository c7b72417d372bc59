/**
 * The lease protocol's timing rules, one table for both doors: the config loader names the key,
 * the `Elector` constructor names the prop. Both go through `timingProblems` (lib/contracts/timing).
 */
import { ValidationError } from '../../../lib/problems/problems';
import { TIMING_KEY_NAMES } from '../../../lib/contracts/timing-names';
import { loadGuardConfig } from '../../../lib/guard/config';
import { Elector, type ElectorProps } from '../../../lib/guard/election/elector';
import type { Supervisor } from '../../../lib/guard/app/supervisor';
import type { GuardTimings } from '../../../lib/contracts/timing';
import { FakeClock } from '../../harness/fake-clock';
import { MemoryDb } from '../../harness/memory-store';
import { silent } from '../../harness/silent-log';

/** Valid in exec mode: L 6, R 1, Q 0.4, D 3, S 1 (1.1·R + 2Q = 1.9 ≤ D; L − D = 3 = K 1 + M 2). */
const VALID: GuardTimings = { failOverIntervalSecs: 6, startupTimeoutSecs: 300, renewPeriodSecs: 1, queryTimeoutSecs: 0.4, renewDeadlineSecs: 3, stopTimeoutSecs: 1 };

/** A supervisor that records whether the elector ever reached it. */
class UntouchedApp implements Supervisor {
  touched = 0;
  async cleanup(): Promise<void> {
    this.touched++;
  }
  async start(): Promise<void> {
    this.touched++;
  }
  async stop(): Promise<void> {
    this.touched++;
  }
  async kill(): Promise<void> {
    this.touched++;
  }
  async ready(): Promise<boolean> {
    this.touched++;
    return false;
  }
  onExit(): void {
    this.touched++;
  }
}


function electorProps(overrides: Partial<ElectorProps> = {}): ElectorProps & { supervisor: UntouchedApp } {
  const clock = new FakeClock();
  return { cluster: 'c', node: 'a', timings: VALID, drainSecs: 0, store: new MemoryDb(() => clock.now()).store('c', 'a'), supervisor: new UntouchedApp(), clock, log: silent, ...overrides } as ElectorProps & {
    supervisor: UntouchedApp;
  };
}

/** The paths an Elector construction reports, [] when it constructs. */
function electorPaths(props: ElectorProps): string[] {
  try {
    new Elector(props);
    return [];
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return e.problems.map((p) => p.path);
  }
}

/** The same timings as a guard config file with all six keys set; the keys it reports. */
function configPaths(t: GuardTimings): string[] {
  const lines = ['cluster.name=print', 'node.id=a', 'database.url=postgres://guard@127.0.0.1:5432/guard', 'service.command=node app.js'];
  for (const field of Object.keys(t) as Array<keyof GuardTimings>) lines.push(`${TIMING_KEY_NAMES[field]}=${t[field]}`);
  const r = loadGuardConfig(lines.join('\n'), {}, 'h');
  return r.ok ? [] : r.problems.map((p) => p.path);
}

// each row: the rule, the timings that break it (over VALID), the field that is named
const RULES: Array<[string, Partial<GuardTimings>, keyof GuardTimings]> = [
  ['L is a number', { failOverIntervalSecs: NaN }, 'failOverIntervalSecs'],
  ['L is finite', { failOverIntervalSecs: Infinity }, 'failOverIntervalSecs'],
  ['L ≥ 5 s', { failOverIntervalSecs: 4 }, 'failOverIntervalSecs'],
  ['startup timeout > 0', { startupTimeoutSecs: 0 }, 'startupTimeoutSecs'],
  ['R > 0', { renewPeriodSecs: 0 }, 'renewPeriodSecs'],
  ['R is not negative', { renewPeriodSecs: -1 }, 'renewPeriodSecs'],
  ['Q > 0', { queryTimeoutSecs: 0 }, 'queryTimeoutSecs'],
  ['D > 0', { renewDeadlineSecs: 0 }, 'renewDeadlineSecs'],
  ['S > 0', { stopTimeoutSecs: 0 }, 'stopTimeoutSecs'],
  ['Q ≤ R', { failOverIntervalSecs: 30, queryTimeoutSecs: 1.2, renewDeadlineSecs: 10 }, 'queryTimeoutSecs'],
  ['R + 2Q ≤ D', { queryTimeoutSecs: 0.5, renewDeadlineSecs: 1.9 }, 'renewDeadlineSecs'],
  ['1.1·R + 2Q ≤ D (a jittered period still fits)', { queryTimeoutSecs: 0.5, renewDeadlineSecs: 2.05 }, 'renewDeadlineSecs'],
  ['L − D ≥ K + M (exec: 1 s + 2 s)', { renewDeadlineSecs: 3.5 }, 'renewDeadlineSecs'],
  ['L − D ≥ K + M with M = L/10', { failOverIntervalSecs: 60, renewDeadlineSecs: 53.5 }, 'renewDeadlineSecs'],
  ['D < L', { renewDeadlineSecs: 6 }, 'renewDeadlineSecs'],
];

describe('guard timing rules (config loader and Elector)', () => {
  it('accept the valid base timings', () => {
    expect(configPaths(VALID)).toEqual([]);
    expect(electorPaths(electorProps())).toEqual([]);
  });

  it.each(RULES)('%s: the config names the key, the Elector the prop', (_rule, broken, field) => {
    // given
    const timings = { ...VALID, ...broken };
    // when / then: exactly that one is named, by each door
    expect(configPaths(timings)).toEqual([TIMING_KEY_NAMES[field]]);
    expect(electorPaths(electorProps({ timings }))).toEqual([`timings.${field}`]);
  });

  it.each([
    ['drainSecs', { drainSecs: -1 }],
    ['drainSecs', { drainSecs: NaN }],
    ['cluster', { cluster: '' }],
    ['node', { node: '' }],
    ['timings', { timings: undefined as unknown as GuardTimings }],
  ])('Elector names %s', (path, overrides) => {
    expect(electorPaths(electorProps(overrides))).toEqual([path]);
  });

  it('the kill-confirm bound is the service mode\'s: L 6, D 3 is enough for exec, not for systemd (K 3 s)', () => {
    expect(electorPaths(electorProps({ serviceMode: 'exec' }))).toEqual([]);
    expect(electorPaths(electorProps({ serviceMode: 'systemd' }))).toEqual(['timings.renewDeadlineSecs']);
  });

  it('a rejected Elector says what to fix and never touched the app', () => {
    // given
    const props = electorProps({ timings: { ...VALID, queryTimeoutSecs: 1.2, renewDeadlineSecs: 4 } });
    // when
    let thrown: Error | undefined;
    try {
      new Elector(props);
    } catch (e) {
      thrown = e as Error;
    }
    // then: every problem at once, each naming its prop
    expect(thrown).toBeInstanceOf(ValidationError);
    expect(thrown?.message).toMatch(/timings\.queryTimeoutSecs: query timeout \(1\.2s\) must be ≤/);
    expect(thrown?.message).toMatch(/timings\.renewDeadlineSecs: timings\.failOverIntervalSecs − timings\.renewDeadlineSecs \(6s − 4s = 2s\) must be ≥ K \+ M = 1s \+ 2s = 3s \(K: kill-confirm bound of exec mode, set by serviceMode/);
    expect(props.supervisor.touched).toBe(0);
  });
});
