/** The drill's pure parts: fence rule, double-active check, HAProxy log parsing and config, fault sequences. */
import { haproxyConfig, parseHaproxyLine } from '../harness/haproxy';
import { distribution, doubleActive, downtimeMs, failoverMs, fences, RESUME_ALLOWANCE_MS, servedAfterFence, servedByFencedApp, STOP_ALLOWANCE_MS, type Sample } from '../../scripts/drill/observe';
import { faultSequence, FAULT_TYPES, parseFaults } from '../../scripts/drill/run';

const names = ['n0', 'n1'];
const up = (term: number) => ({ code: 200, role: 'active', term });
const role = (r: string, term = 1) => ({ code: 503, role: r, term });
const none = { code: 0 };
const s = (t: number, a: Sample['answers'][number], b: Sample['answers'][number]): Sample => ({ t, answers: [a, b] });

describe('fences', () => {
  it('ends a tenure at the successor\'s first 200 when the old node gives no answer (crash, pause, partition)', () => {
    // given
    const samples = [s(0, up(1), role('passive')), s(50, none, role('passive')), s(100, none, up(2))];
    // when
    const f = fences(samples, names);
    // then
    expect(f).toEqual([{ node: 'n0', term: 1, at: 100, until: Infinity, why: 'successor' }]);
    expect(servedAfterFence([{ acceptedAt: 99, server: 'n0', served: true }], f)).toEqual([]);
    expect(servedAfterFence([{ acceptedAt: 101, server: 'n0', served: true }], f)).toHaveLength(1);
    expect(servedAfterFence([{ acceptedAt: 101, server: 'n0', served: false }], f)).toEqual([]);
  });

  it('keeps draining as holding; ends at a non-holding role plus the stop allowance; a new tenure reopens', () => {
    // given
    const samples = [s(0, up(1), none), s(50, role('draining'), none), s(100, role('backoff'), none), s(300, role('passive'), none), s(400, up(3), none)];
    // when
    const f = fences(samples, names);
    // then
    expect(f).toEqual([{ node: 'n0', term: 1, at: 100 + STOP_ALLOWANCE_MS, until: 300, why: 'own-role' }]);
    expect(servedAfterFence([{ acceptedAt: 80, server: 'n0', served: true }], f)).toEqual([]);
    expect(servedAfterFence([{ acceptedAt: 250, server: 'n0', served: true }], f)).toHaveLength(1);
    expect(servedAfterFence([{ acceptedAt: 450, server: 'n0', served: true }], f)).toEqual([]);
  });
});

describe('fences: a new tenure', () => {
  it('ends the fence at the last sample before the node shows a newer term in a holding role', () => {
    // given: n1 fenced by n0's 200, then n1 wins again (starting, term 3) before any 200 of its own
    const samples = [s(0, role('passive'), up(1)), s(50, up(2), none), s(100, role('backoff', 2), role('passive', 2)), s(150, role('passive', 2), { code: 503, role: 'starting', term: 3 })];
    // when
    const f = fences(samples, names).filter((x) => x.node === 'n1');
    // then
    expect(f).toEqual([{ node: 'n1', term: 1, at: 50, until: 100, why: 'successor' }]);
    expect(servedAfterFence([{ acceptedAt: 120, server: 'n1', served: true }], f)).toEqual([]);
    expect(servedAfterFence([{ acceptedAt: 80, server: 'n1', served: true }], f)).toHaveLength(1);
  });
});

describe('served by a fenced node, its app asked directly', () => {
  const serving = { ok: true };
  const stopping = { ok: true, stopping: true };
  const gone = { ok: false };
  const withApps = (t: number, a: Sample['answers'][number], b: Sample['answers'][number], apps: NonNullable<Sample['apps']>): Sample => ({ ...s(t, a, b), apps });

  it('counts an app that serves on while its guard is stalled (no /health answer) after a successor became active', () => {
    // given: n0 active, its guard stalls (no answer) while its app serves on; n1 takes over at 100
    const samples = [withApps(0, up(1), role('passive'), [serving, gone]), withApps(50, none, role('passive'), [stopping, gone]), withApps(100, none, up(2), [stopping, serving]), withApps(150, none, up(2), [stopping, serving]), withApps(200, none, up(2), [gone, serving])];
    // when
    const r = servedByFencedApp(samples, names, fences(samples, names));
    // then: the answers at 150 only (100 is the fence's own sample)
    expect(r.answers).toBe(1);
    expect(r.violations).toEqual([expect.stringMatching(/n0's app answered 1 direct request\(s\) from 50 to 50 ms after its fence \(term 1, successor\), 1 of them while stopping gracefully/)]);
  });

  it('counts a graceful stop after the node\'s own fence (a fence must be a crash); none while draining', () => {
    // given: n0 drains (holding: the app may serve), later reports fenced while its app still answers
    const samples = [withApps(0, up(1), none, [serving, gone]), withApps(50, role('draining'), none, [stopping, gone]), withApps(100, role('fenced'), none, [stopping, gone]), withApps(300, role('fenced'), none, [stopping, gone]), withApps(350, role('fenced'), none, [gone, gone])];
    // when
    const r = servedByFencedApp(samples, names, fences(samples, names));
    // then
    expect(r.answers).toBe(1);
    expect(r.violations[0]).toContain('own-role');
  });

  it('counts answers right after a whole-node resume apart, and nothing when the app is gone', () => {
    // given: the whole n0 was paused; n1 active; n0 resumes at 1000 and its app answers once before its guard kills it
    const samples = [withApps(0, up(1), role('passive'), [serving, gone]), withApps(100, none, up(2), [gone, serving]), withApps(1000, none, up(2), [serving, serving]), withApps(1000 + RESUME_ALLOWANCE_MS + 50, role('fenced'), up(2), [serving, serving])];
    // when
    const r = servedByFencedApp(samples, names, fences(samples, names), [{ node: 'n0', at: 1000 }]);
    // then
    expect(r.onResume).toBe(1);
    expect(r.answers).toBe(1);
    expect(servedByFencedApp(samples.slice(0, 2), names, fences(samples, names)).answers).toBe(0);
  });
});

describe('checks and figures', () => {
  it('reports a sample with two 200 answers', () => {
    expect(doubleActive([s(0, up(1), role('passive')), s(50, up(1), up(2))], names)).toEqual([expect.stringContaining('n0, n1')]);
  });

  it('failover ignores the old node in its old term; downtime runs from the first failure to the next success', () => {
    const samples = [s(0, up(1), none), s(50, none, none), s(100, up(2), none)];
    expect(failoverMs(samples, names, { node: 'n0', term: 1 }, 10, Infinity)).toBe(90);
    expect(failoverMs(samples.slice(0, 2), names, { node: 'n0', term: 1 }, 0, Infinity)).toBeUndefined();
    const results = [
      { t0: 0, t1: 5, ok: true },
      { t0: 50, t1: 55, ok: false },
      { t0: 100, t1: 105, ok: false },
      { t0: 150, t1: 160, ok: true },
    ];
    expect(downtimeMs(results, 10, Infinity)).toBe(110);
    expect(downtimeMs(results.slice(0, 1), 0, Infinity)).toBe(0);
    expect(distribution([5, 1, 3, 2, 4])).toEqual({ n: 5, median: 3, p95: 5, min: 1, max: 5 });
  });
});

describe('HAProxy', () => {
  it('parses request and server-state log lines', () => {
    expect(parseHaproxyLine('<134>Nov 21 23:20:45 haproxy[3092]: fgd 1795303245.058 n0 -- 129')).toEqual({ acceptedAt: 1795303245058, server: 'n0', served: true });
    expect(parseHaproxyLine('<134>x haproxy[1]: fgd 1795303245.058 n1 SC 0')).toMatchObject({ server: 'n1', served: false });
    expect(parseHaproxyLine('<129>x haproxy[1]: Server app/n2 is DOWN, reason: Layer7 wrong status')).toEqual({ server: 'n2', state: 'DOWN' });
    expect(parseHaproxyLine('something else')).toBeUndefined();
  });

  it('checks GET /health on each guard port, inter 1s fall 2 rise 1; names the server in http mode', () => {
    const nodes = [{ name: 'n0', addr: '127.0.0.1', appPort: 1001, healthPort: 2001 }];
    const tcp = haproxyConfig({ mode: 'tcp', frontPort: 3000, syslogPort: 4000, nodes });
    expect(tcp).toContain('option httpchk GET /health');
    expect(tcp).toContain('http-check expect status 200');
    expect(tcp).toContain('default-server inter 1s fall 2 rise 1');
    expect(tcp).toContain('server n0 127.0.0.1:1001 check port 2001');
    expect(tcp).not.toContain('X-Served-By');
    expect(haproxyConfig({ mode: 'http', frontPort: 3000, syslogPort: 4000, nodes })).toContain('http-response set-header X-Served-By %s');
  });
});

describe('fault sequences', () => {
  it('the same seed gives the same sequence; unknown faults are named', () => {
    expect(faultSequence(20, 7, FAULT_TYPES)).toEqual(faultSequence(20, 7, FAULT_TYPES));
    expect(faultSequence(20, 7, FAULT_TYPES)).not.toEqual(faultSequence(20, 8, FAULT_TYPES));
    expect(parseFaults('--faults', 'crash, pause')).toEqual(['crash', 'pause']);
    expect(() => parseFaults('--faults', 'crash,reboot')).toThrow('--faults: unknown fault reboot');
  });
});
