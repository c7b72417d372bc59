/**
 * `npm run drill`: watch failover happen. Starts PostgreSQL (embedded unless --database-url),
 * N guards supervising the demo app, HAProxy in front; a client requests through HAProxy every
 * 50 ms while the active node is crashed, paused, has its guard killed and steps down, in turn.
 * Prints a live timeline and, per event, failover time and client-visible downtime. With
 * several lease times (`--lease-secs 6,10,30`) and `--repeat N` it runs once per L and ends with
 * a table of crash failover and handover per L: median and spread (min–max).
 */
import { Command, InvalidArgumentError } from 'commander';
import { secretReferenceForms } from '../../lib/contracts/secret-reference';
import { DrillEnv } from '../../test/harness/drill-env';
import type { Mode } from '../../test/harness/haproxy';
import { intArg, modeArg, parseArgs } from './cli';
import { distribution, fmtSecs } from './observe';
import { DRILL_FAULTS, parseFaults, reportLines, runScenario, withEnv, type FaultEvent, type FaultType } from './run';

/** `6,10,30` → [6, 10, 30]; each L ≥ 5. */
function leaseList(v: string): number[] {
  const out = v.split(',').map((x) => Number(x.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 5)) throw new InvalidArgumentError(`--lease-secs must be whole numbers ≥ 5, comma-separated, got "${v}"`);
  return out;
}

/** One row per L: crash failover and handover (step-down), median and min–max. */
export function perLeaseLines(runs: readonly { L: number; events: readonly FaultEvent[] }[]): string[] {
  const cell = (evs: readonly FaultEvent[], type: FaultType) => {
    const d = distribution(evs.filter((e) => e.type === type && e.failoverMs !== undefined).map((e) => e.failoverMs!));
    return d ? `${fmtSecs(d.median)} (${fmtSecs(d.min).trim()}–${fmtSecs(d.max).trim()}, n ${d.n})` : '—';
  };
  return [
    'per lease time L: failover = fault → first /health 200 elsewhere; median (min–max, n)',
    `${'L'.padStart(4)}  ${'crash (kill -9 of the active node)'.padEnd(34)}  handover (step-down)`,
    ...runs.map((r) => `${`${r.L}s`.padStart(4)}  ${cell(r.events, 'crash').padEnd(34)}  ${cell(r.events, 'step-down')}`),
  ];
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('drill')
    .description('Failover drill: guards + demo app + HAProxy, faults against the active node, live timeline.')
    .option('--lease-secs <L,…>', 'lease TTL L in seconds (R, Q, D and the stop timeout are derived from it); several: one drill per L', leaseList, [6])
    .option('--repeat <n>', 'run the fault list n times (figures with a spread)', intArg('--repeat', 1), 1)
    .option('--nodes <n>', 'number of guards', intArg('--nodes', 2), 3)
    .option('--faults <list>', 'comma-separated: crash,pause,guard-kill,step-down (also db-restart,db-stop,maintenance,partition)', DRILL_FAULTS.join(','))
    .option('--mode <mode>', 'HAProxy mode: tcp or http', modeArg, 'tcp' as Mode)
    .option('--database-url <url>', 'a real PostgreSQL (postgres://user@host:5432/db, no password) instead of the embedded one')
    .option('--password-source <src>', `with --database-url: ${secretReferenceForms('database-password')}`)
    .exitOverride();
  const o = parseArgs<{ leaseSecs: number[]; repeat: number; nodes: number; faults: string; mode: Mode; databaseUrl?: string; passwordSource?: string }>(program, argv);
  if (!o) return 2;
  let faults;
  try {
    faults = parseFaults('--faults', o.faults);
    if (o.databaseUrl && !o.passwordSource) throw new Error('--password-source is required with --database-url');
    if (o.databaseUrl && faults.some((f) => f.startsWith('db-') || f === 'partition')) throw new Error('--faults: db-restart, db-stop and partition need the embedded database');
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const print = (l: string) => console.log(l);
  const sequence = Array.from({ length: o.repeat }, () => faults).flat();
  const runs: { L: number; events: FaultEvent[] }[] = [];
  let code = 0;
  for (const L of o.leaseSecs) {
    const env = new DrillEnv({ leaseSecs: L, nodes: o.nodes, mode: o.mode, databaseUrl: o.databaseUrl, passwordSource: o.passwordSource, partition: faults.includes('partition') });
    const t = env.timings;
    print(`drill: ${o.nodes} guards, L=${t.failOverIntervalSecs}s R=${t.renewPeriodSecs}s D=${t.renewDeadlineSecs}s stop=${t.stopTimeoutSecs}s, HAProxy ${o.mode} inter 1s fall 2 rise 1, faults ${faults.join(', ')}${o.repeat > 1 ? ` × ${o.repeat}` : ''}`);
    const c = await withEnv(env, print, async () => {
      print(`temp dir ${env.root}; database ${env.db!.url}; HAProxy on 127.0.0.1:${env.haproxy.frontPort}; guards ${env.nodes.map((n) => `${n.name} health ${n.addr}:${n.healthPort}`).join(', ')}`);
      const t0 = Date.now();
      const r = await runScenario(env, sequence, print);
      runs.push({ L, events: r.events });
      print('');
      const { lines, ok } = reportLines(r, Date.now() - t0);
      lines.forEach(print);
      return ok ? 0 : 1;
    });
    code = Math.max(code, c);
  }
  print('');
  perLeaseLines(runs).forEach(print);
  return code;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
