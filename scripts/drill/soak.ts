/**
 * `npm run soak -- --faults N --seed S`: a seeded random sequence of faults (kill -9 of a node,
 * guard-only kill, SIGSTOP past L, database restart, database stopped past D, step-down,
 * maintenance on/off, and — as root with `ip` — a network partition). Checks that no two nodes
 * answer /health 200 in one sample and that HAProxy never had a request served by a node after
 * its fence; prints failover time and client-visible downtime per fault type. Exit 1 on any violation.
 */
import { Command } from 'commander';
import { existsSync } from 'fs';
import { DrillEnv } from '../../test/harness/drill-env';
import type { Mode } from '../../test/harness/haproxy';
import { IP } from '../../test/harness/netns';
import { intArg, modeArg } from './drill';
import { FAULT_TYPES, faultSequence, parseFaults, reportLines, runScenario, withEnv, type FaultType, type ScenarioResult } from './run';

export interface SoakOptions {
  readonly faults: number;
  readonly seed: number;
  /** @default 6 */
  readonly leaseSecs?: number;
  /** @default 3 */
  readonly nodes?: number;
  /** @default 'tcp' */
  readonly mode?: Mode;
  /** Fault types to draw from. @default every type this machine supports */
  readonly types?: readonly FaultType[];
  /** Print every event line and the live timeline. @default false */
  readonly verbose?: boolean;
}

/** The partition fault needs root and `ip`. */
export function canPartition(): boolean {
  return process.getuid?.() === 0 && existsSync(IP);
}

/** Runs a soak; resolves with its result and exit code (printing as it goes). */
export async function soak(o: SoakOptions, print: (l: string) => void): Promise<{ code: number; result?: ScenarioResult }> {
  const types = o.types ?? FAULT_TYPES.filter((t) => t !== 'partition' || canPartition());
  const seq = faultSequence(o.faults, o.seed, types);
  const env = new DrillEnv({ leaseSecs: o.leaseSecs, nodes: o.nodes, mode: o.mode, partition: types.includes('partition') });
  const t = env.timings;
  print(`soak: ${o.faults} faults, seed ${o.seed}, ${o.nodes ?? 3} guards, L=${t.failOverIntervalSecs}s R=${t.renewPeriodSecs}s D=${t.renewDeadlineSecs}s stop=${t.stopTimeoutSecs}s, HAProxy ${o.mode ?? 'tcp'} inter 1s fall 2 rise 1`);
  print(`fault types: ${types.join(', ')}`);
  let result: ScenarioResult | undefined;
  const t0 = Date.now();
  const code = await withEnv(env, print, async () => {
    result = await runScenario(env, seq, print, o.verbose ?? false);
    print('');
    const { lines, ok } = reportLines(result, Date.now() - t0);
    lines.forEach(print);
    return ok ? 0 : 1;
  });
  return { code, result };
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('soak')
    .description('Randomized fault soak with safety checks.')
    .option('--faults <n>', 'number of faults', intArg('--faults', 1), 30)
    .option('--seed <s>', 'PRNG seed (same seed, same sequence)', intArg('--seed', 0), 1)
    .option('--lease-secs <L>', 'lease TTL L in seconds', intArg('--lease-secs', 5), 6)
    .option('--nodes <n>', 'number of guards', intArg('--nodes', 2), 3)
    .option('--mode <mode>', 'HAProxy mode: tcp or http', modeArg, 'tcp' as Mode)
    .option('--types <list>', `fault types to draw from (default: all this machine supports): ${FAULT_TYPES.join(',')}`)
    .option('--verbose', 'live timeline and every event')
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch {
    return 2;
  }
  const o = program.opts<{ faults: number; seed: number; leaseSecs: number; nodes: number; mode: Mode; types?: string; verbose?: boolean }>();
  let types: FaultType[] | undefined;
  try {
    types = o.types ? parseFaults('--types', o.types) : undefined;
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const r = await soak({ ...o, types }, (l) => console.log(l));
  return r.code;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
