/**
 * The drill end to end, as root, with real PostgreSQL (embedded binaries), real HAProxy and a
 * real network namespace: an 11-fault seeded soak (each fault type once: a partition of the active
 * node, guards stalled in the middle of a stop and a duplicate node id among them) with zero
 * violations, and a short `npm run drill` smoke run. One file so the runs never overlap (they
 * measure timings). Soak at L = 10 s (R 1, D 5, the app serving on for S + 2 s after SIGTERM),
 * the drill at its default; HAProxy inter 1s fall 2 rise 1.
 */
import { spawn } from 'child_process';
import { existsSync } from 'fs';
import { execFileSync } from 'child_process';
import { join } from 'path';
import { prerequisiteProblems } from '../harness/drill-env';
import { IP } from '../harness/netns';
import { markedProcesses } from '../harness/processes';
import { distribution } from '../../scripts/drill/observe';
import { soak } from '../../scripts/drill/soak';
import { FAULT_TYPES } from '../../scripts/drill/run';

const L = 10000;
const D = 5000;

/** Fails (never skips) when the machine lacks what the drill needs. */
function requirePrerequisites(): void {
  const problems = prerequisiteProblems({ partition: true });
  if (problems.length) throw new Error(`the drill tests need HAProxy, ip and root:\n${problems.join('\n')}`);
}

describe('failover drill (real PostgreSQL, HAProxy, network namespace)', () => {
  // seed 1519 draws each of the eleven fault types once; the long soak (`npm run soak`, 100+
  // faults) stays a script
  it('11-fault soak at L = 10, seed 1519: every fault type, zero violations, the cut-off active node fences within D, nothing left behind', async () => {
    // given
    requirePrerequisites();
    const lines: string[] = [];
    // when
    const { code, result } = await soak({ faults: 11, seed: 1519, leaseSecs: L / 1000 }, (l) => lines.push(l));
    // then
    const out = lines.join('\n');
    expect(result?.violations).toEqual([]);
    expect(result!.doubleActive).toBe(0);
    expect(result!.servedByFenced).toEqual({ haproxy: 0, direct: 0 });
    expect(code).toBe(0);
    expect(result!.events).toHaveLength(11);
    expect(new Set(result!.events.map((e) => e.type))).toEqual(new Set(FAULT_TYPES));
    expect(result!.samples).toBeGreaterThan(500);
    expect(result!.served).toBeGreaterThan(100);
    const crash = distribution(result!.events.filter((e) => e.type === 'crash').map((e) => e.downtimeMs!));
    expect(crash!.median).toBeLessThanOrEqual(L + 3000);
    // the soak steers the active node into the namespace before each cut
    const partitions = result!.events.filter((e) => e.type === 'partition');
    expect(partitions.length).toBeGreaterThan(0);
    for (const ev of partitions) {
      expect(ev.old?.node).toBe('n2');
      expect(ev.fenceMs).toBeLessThanOrEqual(D + 250);
      expect(ev.failoverMs!).toBeLessThanOrEqual(L + 2000);
    }
    expect(out).toMatch(/^crash +\d+ +\d+\.\d\ds/m);
    expect(out).toContain('violations: 0');
    expect(out).toMatch(/faults 11: double-active samples 0; served by a fenced node 0 through HAProxy, 0 by its app asked directly/);
    expect(out).toMatch(/final scan found none\), temp dir removed, namespace removed/);
    const runId = /every process of run (\w+) stopped/.exec(out)![1];
    expect(markedProcesses(runId)).toEqual([]);
    expect(execFileSync(IP, ['netns', 'list']).toString()).not.toContain(runId);
    expect(execFileSync(IP, ['-o', 'link']).toString()).not.toContain(runId);
  }, 480000);

  it('npm run drill (http mode, crash + step-down) prints the per-event figures and leaves no process behind', async () => {
    // given
    requirePrerequisites();
    // when
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx'), join(__dirname, '..', '..', 'scripts', 'drill', 'drill.ts'), '--faults', 'crash,step-down', '--mode', 'http'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    // then
    expect(out).toMatch(/active: n\d \(term \d+\)/);
    expect(out).toMatch(/event +1 crash +on n\d +failover +\d+\.\d\ds +client downtime +\d+\.\d\ds/);
    expect(out).toMatch(/event +2 step-down +on n\d +failover +\d+\.\d\ds +client downtime +\d+\.\d\ds/);
    expect(out).toMatch(/^ +6s +\d+\.\d\ds \(\d+\.\d\ds–\d+\.\d\ds, n 1\) +\d+\.\d\ds \(/m);
    expect(out).toContain('violations: 0');
    expect(code).toBe(0);
    const runId = /cleanup: every process of run (\w+) stopped/.exec(out)?.[1];
    expect(runId).toBeDefined();
    expect(markedProcesses(runId!)).toEqual([]);
    const dir = /temp dir (\S+);/.exec(out)?.[1];
    expect(dir && existsSync(dir)).toBe(false);
  }, 120000);
});
