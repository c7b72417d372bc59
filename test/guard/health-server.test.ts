import type { AddressInfo } from 'net';
import { createHealthServer, isLoopback } from '../../lib/guard/health-server';
import { GuardMetrics } from '../../lib/guard/metrics';
import type { HealthSnapshot } from '../../lib/guard/election/elector';

describe('health server', () => {
  let snap: HealthSnapshot = { cluster: 'c', node: 'a', role: 'active', term: 2, holder: 'a', ready: true, leaseRemainingMs: 5000, appUnconfirmed: false, healthy: true };
  let steppedDown = 0;
  const server = createHealthServer({ snapshot: () => snap, stepDown: async () => void steppedDown++, metrics: new GuardMetrics(() => 7) });
  let base = '';

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('answers /health 200 with the JSON body only when healthy', async () => {
    // when
    const ok = await fetch(`${base}/health`);
    snap = { ...snap, role: 'passive', healthy: false };
    const no = await fetch(`${base}/health`);
    // then
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ cluster: 'c', node: 'a', role: 'active', term: 2, holder: 'a', ready: true, leaseRemainingMs: 5000, appUnconfirmed: false });
    expect(no.status).toBe(503);
    expect((await fetch(`${base}/live`)).status).toBe(200);
  });

  it('serves metrics, including DB statements and probes', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('failover_guard_db_statements_total 7');
    expect(text).toMatch(/failover_guard_health_probes_total\{code="200"\} \d/);
    // the process footprint, for operators
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
    expect(text).toMatch(/^process_cpu_seconds_total [\d.]+$/m);
    expect(text).toMatch(/^process_open_fds \d+$/m);
    // every sample line is `name{labels} number`, each family typed once
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples.filter((l) => !/^[a-z_]+(\{[a-z]+="[^"]*"\})? -?[\d.e+-]+$/.test(l))).toEqual([]);
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    expect(new Set(types).size).toBe(types.length);
  });

  it('counts probes by code and renders the renew histogram cumulatively', async () => {
    // given
    const metrics = new GuardMetrics(() => 0);
    metrics.onProbe(200);
    metrics.onProbe(503);
    metrics.onProbe(503);
    metrics.onRenew(3); // 0.003 s
    metrics.onRenew(4000); // beyond the last bucket
    metrics.onChange({ event: 'became-active', role: 'active', term: 9 });
    // when
    const text = metrics.render();
    // then
    expect(text).toContain('failover_guard_health_probes_total{code="200"} 1\n');
    expect(text).toContain('failover_guard_health_probes_total{code="503"} 2\n');
    expect(text).toContain('failover_guard_renew_seconds_bucket{le="0.0025"} 0\nfailover_guard_renew_seconds_bucket{le="0.005"} 1\n');
    expect(text).toContain('failover_guard_renew_seconds_bucket{le="2.5"} 1\nfailover_guard_renew_seconds_bucket{le="+Inf"} 2\nfailover_guard_renew_seconds_sum 4.003\nfailover_guard_renew_seconds_count 2\n');
    expect(text).toContain('failover_guard_role{role="active"} 1\n');
    expect(text).toContain('failover_guard_role{role="passive"} 0\n');
    expect(text).toContain('failover_guard_term 9\n');
    expect(text).toContain('failover_guard_became_active_total 1\n');
  });

  it('reports an app whose kill or stop is not confirmed', () => {
    let unconfirmed = false;
    const metrics = new GuardMetrics(() => 0, { appUnconfirmed: () => unconfirmed });
    expect(metrics.render()).toContain('\nfailover_guard_app_unconfirmed 0\n');
    unconfirmed = true;
    expect(metrics.render()).toContain('\nfailover_guard_app_unconfirmed 1\n');
  });

  it('accepts POST /step-down from loopback only', async () => {
    expect((await fetch(`${base}/step-down`)).status).toBe(405);
    expect((await fetch(`${base}/step-down`, { method: 'POST' })).status).toBe(202);
    expect(steppedDown).toBe(1);
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.5'].map(isLoopback)).toEqual([true, true, true]);
    expect(['10.0.0.5', '::ffff:10.0.0.5', undefined].map(isLoopback)).toEqual([false, false, false]);
  });
});
