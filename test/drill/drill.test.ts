/**
 * The drill end to end, as root, with real PostgreSQL (embedded binaries), real HAProxy and a
 * real network namespace: a 30-fault seeded soak with zero violations, a network partition of
 * the active node, and a short `npm run drill` smoke run. One file so the runs never overlap
 * (they measure timings). L = 6 s, R = 1, D = 3, stop 2; HAProxy inter 1s fall 2 rise 1.
 */
import { spawn } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { execFileSync } from 'child_process';
import { join } from 'path';
import { DrillEnv, prerequisiteProblems } from '../harness/drill-env';
import { IP } from '../harness/netns';
import { RUN_MARK } from '../harness/processes';
import { distribution } from '../../scripts/drill/observe';
import { runScenario } from '../../scripts/drill/run';
import { soak } from '../../scripts/drill/soak';

const L = 6000;
const D = 3000;

/** Fails (never skips) when the machine lacks what the drill needs. */
function requirePrerequisites(): void {
  const problems = prerequisiteProblems({ partition: true });
  if (problems.length) throw new Error(`the drill tests need HAProxy, ip and root:\n${problems.join('\n')}`);
}

function leftovers(runId: string): number[] {
  const mark = `${RUN_MARK}=${runId}`;
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(mark);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('failover drill (real PostgreSQL, HAProxy, network namespace)', () => {
  it('30-fault soak, seed 1: every fault type, zero violations, crash downtime median ≤ L + 3 s', async () => {
    // given
    requirePrerequisites();
    const lines: string[] = [];
    // when
    const { code, result } = await soak({ faults: 30, seed: 1, leaseSecs: 6 }, (l) => lines.push(l));
    // then
    const out = lines.join('\n');
    expect(result?.violations).toEqual([]);
    expect(code).toBe(0);
    expect(result!.events).toHaveLength(30);
    expect(new Set(result!.events.map((e) => e.type))).toEqual(new Set(['crash', 'pause', 'guard-kill', 'step-down', 'db-restart', 'db-stop', 'maintenance', 'partition']));
    expect(result!.samples).toBeGreaterThan(1000);
    expect(result!.served).toBeGreaterThan(100);
    const crash = distribution(result!.events.filter((e) => e.type === 'crash').map((e) => e.downtimeMs!));
    expect(crash!.median).toBeLessThanOrEqual(L + 3000);
    expect(out).toMatch(/^crash +\d+ +\d+\.\d\ds/m);
    expect(out).toContain('violations: 0');
    expect(out).toMatch(/final scan found none/);
  }, 330000);

  it('partition: the cut-off active node fences within D, another node takes over, the namespace is removed', async () => {
    // given: the last node lives in its own network namespace
    requirePrerequisites();
    const env = new DrillEnv({ leaseSecs: 6, nodes: 3, partition: true });
    const lines: string[] = [];
    let left: number[] = [];
    try {
      await env.start();
      // when: the link to the namespace is cut while its node is active (the drill steers it there first)
      const r = await runScenario(env, ['partition'], (l) => lines.push(l), false);
      // then
      expect(r.violations).toEqual([]);
      const [ev] = r.events;
      expect(ev.old?.node).toBe(env.nodes[2].name);
      expect(ev.fenceMs).toBeLessThanOrEqual(D + 250);
      expect(ev.failoverMs).toBeDefined();
      expect(ev.failoverMs!).toBeLessThanOrEqual(L + 2000);
    } finally {
      left = await env.teardown();
    }
    expect(left).toEqual([]);
    expect(execFileSync(IP, ['netns', 'list']).toString()).not.toContain(env.netns!.name);
    expect(execFileSync(IP, ['-o', 'link']).toString()).not.toContain(env.netns!.hostIf);
    expect(existsSync(env.root)).toBe(false);
  }, 120000);

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
    expect(out).toContain('violations: 0');
    expect(code).toBe(0);
    const runId = /cleanup: every process of run (\w+) stopped/.exec(out)?.[1];
    expect(runId).toBeDefined();
    expect(leftovers(runId!)).toEqual([]);
    const dir = /temp dir (\S+);/.exec(out)?.[1];
    expect(dir && existsSync(dir)).toBe(false);
  }, 120000);
});
