/**
 * `npm run soak -- --faults N --seed S`: a seeded random sequence of faults (kill -9 of a node,
 * guard-only kill, SIGSTOP past L, database restart, database stopped past D, step-down,
 * maintenance on/off, and — as root with `ip` — a network partition). Checks that no two nodes
 * answer /health 200 in one sample and that HAProxy never had a request served by a node after
 * its fence; prints failover time and client-visible downtime per fault type. Exit 1 on any violation.
 */
import { existsSync } from 'fs';
import { DrillEnv } from '../../test/harness/drill-env';
import type { Mode } from '../../test/harness/haproxy';
import { IP } from '../../test/harness/netns';
import { modeArg, parseSoakArgs, soakCommand } from './cli';
import { FAULT_TYPES, faultSequence, reportLines, runScenario, withEnv, type FaultType, type ScenarioResult } from './run';

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
  const program = soakCommand('soak', 'Randomized fault soak with safety checks (--types: default all this machine supports).', { leaseSecs: 6, nodesWhat: 'guards', types: FAULT_TYPES }).option(
    '--mode <mode>',
    'HAProxy mode: tcp or http',
    modeArg,
    'tcp' as Mode,
  );
  const o = parseSoakArgs<FaultType, { mode: Mode }>(program, argv, FAULT_TYPES);
  if (!o) return 2;
  const r = await soak(o, (l) => console.log(l));
  return r.code;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
