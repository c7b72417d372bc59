/**
 * `npm run soak -- --faults N --seed S`: a seeded random sequence of faults (kill -9 of a node,
 * guard-only kill, SIGSTOP past L, database restart, database stopped past D, step-down,
 * maintenance on/off, the guard stalled past L in the middle of a planned stop or of a fence, a
 * second guard with the active node's node.id, and — as root with `ip` — a network partition).
 * Checks that no two nodes answer /health 200 in one sample and that no request is served by a
 * node after its fence (HAProxy's log, and every app asked directly); prints failover time and
 * client-visible downtime per fault type. The app stops slowly (it serves on for S + 2 s after
 * SIGTERM) so a graceful stop after a fence shows. Exit 1 on any violation.
 */
import { existsSync } from 'fs';
import { DrillEnv, drillTimings } from '../../test/harness/drill-env';
import type { Mode } from '../../test/harness/haproxy';
import { IP } from '../../test/harness/netns';
import { modeArg, parseSoakArgs, soakCommand } from './cli';
import { FAULT_TYPES, faultSequence, reportLines, runScenario, withEnv, type FaultType, type ScenarioResult } from './run';

export interface SoakOptions {
  readonly faults: number;
  readonly seed: number;
  /** @default 10 */
  readonly leaseSecs?: number;
  /** How long the app serves on after SIGTERM. @default the stop timeout S + 2 s (a slow vendor app) */
  readonly appStopMs?: number;
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
  const leaseSecs = o.leaseSecs ?? 10;
  const appStopMs = o.appStopMs ?? (drillTimings(leaseSecs).stopTimeoutSecs + 2) * 1000;
  const env = new DrillEnv({ leaseSecs, nodes: o.nodes, mode: o.mode, partition: types.includes('partition'), spare: types.includes('duplicate-id'), appStopMs });
  const t = env.timings;
  print(`soak: ${o.faults} faults, seed ${o.seed}, ${o.nodes ?? 3} guards, L=${t.failOverIntervalSecs}s R=${t.renewPeriodSecs}s D=${t.renewDeadlineSecs}s stop=${t.stopTimeoutSecs}s, app stops ${appStopMs / 1000}s after SIGTERM, HAProxy ${o.mode ?? 'tcp'} inter 1s fall 2 rise 1`);
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
  const program = soakCommand('soak', 'Randomized fault soak with safety checks (--types: default all this machine supports).', { leaseSecs: 10, nodesWhat: 'guards', types: FAULT_TYPES }).option(
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
