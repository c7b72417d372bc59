import type { AddressInfo } from 'net';
import { createHealthServer, isLoopback } from '../../lib/guard/health-server';
import { GuardMetrics } from '../../lib/guard/metrics';
import type { HealthSnapshot } from '../../lib/guard/elector';

describe('health server', () => {
  let snap: HealthSnapshot = { cluster: 'c', node: 'a', role: 'active', term: 2, holder: 'a', ready: true, leaseRemainingMs: 5000, healthy: true };
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
    expect(await ok.json()).toEqual({ cluster: 'c', node: 'a', role: 'active', term: 2, holder: 'a', ready: true, leaseRemainingMs: 5000 });
    expect(no.status).toBe(503);
    expect((await fetch(`${base}/live`)).status).toBe(200);
  });

  it('serves metrics, including DB statements and probes', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('failover_guard_db_statements_total 7');
    expect(text).toMatch(/failover_guard_health_probes_total\{code="200"\} \d/);
    // the process footprint, for operators (issue 12)
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
  });

  it('accepts POST /step-down from loopback only', async () => {
    expect((await fetch(`${base}/step-down`)).status).toBe(405);
    expect((await fetch(`${base}/step-down`, { method: 'POST' })).status).toBe(202);
    expect(steppedDown).toBe(1);
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.5'].map(isLoopback)).toEqual([true, true, true]);
    expect(['10.0.0.5', '::ffff:10.0.0.5', undefined].map(isLoopback)).toEqual([false, false, false]);
  });
});
