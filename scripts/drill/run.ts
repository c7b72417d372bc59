/**
 * Faults and the scenario loop shared by `npm run drill`, `npm run soak` and test/drill: inject a
 * fault against the active node, wait for the cluster to recover, restore the faulted part,
 * wait until one node is active and the client succeeds again; then measure every event and
 * check the safety rules over the whole run.
 */
import type { DrillEnv } from '../../test/harness/drill-env';
import type { GuardNode } from '../../test/harness/guard-cluster';
import type { Haproxy } from '../../test/harness/haproxy';
import { sleep } from '../../test/harness/wait';
import { parseList } from './cli';
import { Client, distribution, RESUME_ALLOWANCE_MS, sampleContext, STOP_ALLOWANCE_MS, doubleActive, downtimeMs, failoverMs, fences, fmtSecs, Sampler, servedAfterFence, servedByFencedApp, Timeline, type AppAnswer, type Resume, type Sample, type SampledNode } from './observe';

/**
 * stall-stop: a planned stop (step-down), and the guard SIGSTOPped mid-stop for longer than L;
 * stall-fence: a fence (the database stopped past D), and the guard SIGSTOPped mid-stop for
 * longer than L (the database back meanwhile, so a successor can take over); duplicate-id: a
 * spare guard started with the active node's `node.id` for L + 2 s, then killed.
 */
export const FAULT_TYPES = ['crash', 'pause', 'guard-kill', 'step-down', 'db-restart', 'db-stop', 'maintenance', 'partition', 'stall-stop', 'stall-fence', 'duplicate-id'] as const;
export type FaultType = (typeof FAULT_TYPES)[number];
/** The drill's default sequence. */
export const DRILL_FAULTS: readonly FaultType[] = ['crash', 'pause', 'guard-kill', 'step-down'];

/** Parses `crash,pause,…`; throws naming the flag and the bad value. */
export function parseFaults(flag: string, text: string): FaultType[] {
  return parseList(flag, text, FAULT_TYPES);
}

/** One injected fault. */
export interface FaultEvent {
  /** A {@link FaultType} here; the booted-node soak has its own fault names. */
  readonly type: string;
  /** The active node (and term) when the fault hit. */
  readonly old?: { node: string; term?: number };
  /** Fault time (ms since the epoch); for maintenance, the moment it was switched off. */
  readonly at: number;
  /** When the client failure window starts (the fault itself, also for maintenance). */
  readonly from: number;
  /** When this fault's procedure began (before any unmeasured preparation); ends the previous event's window. */
  readonly begin: number;
  /** Set by the analysis. */
  failoverMs?: number;
  downtimeMs?: number;
  /** Partition: cut → the cut-off guard's "fenced" log line. */
  fenceMs?: number;
}

export interface ScenarioResult {
  readonly events: FaultEvent[];
  readonly violations: string[];
  /** Samples in which two or more nodes answered /health 200. */
  readonly doubleActive: number;
  /** Requests served by a fenced node: through HAProxy (its log), and answered by the app asked directly. */
  readonly servedByFenced: { readonly haproxy: number; readonly direct: number };
  /** Direct app answers right after a whole node resumed (counted apart, see RESUME_ALLOWANCE_MS). */
  readonly servedOnResume: number;
  readonly samples: number;
  readonly requests: number;
  readonly served: number;
}

/** Seeded PRNG (mulberry32): the same seed gives the same fault sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` faults drawn uniformly from `types` with the seeded PRNG. */
export function faultSequence<T extends string = FaultType>(count: number, seed: number, types: readonly T[]): T[] {
  const r = prng(seed);
  return Array.from({ length: count }, () => types[Math.floor(r() * types.length)]);
}

/**
 * What every fault run watches (drill processes and booted nodes alike): the sampler, the client
 * through HAProxy, the live timeline, the violations found on the way, and the final analysis.
 */
export class ObservedRun<E extends FaultEvent = FaultEvent> {
  readonly sampler: Sampler;
  readonly client: Client;
  readonly timeline: Timeline;
  readonly names: string[];
  readonly violations: string[] = [];
  readonly events: E[] = [];
  /** Whole nodes resumed (SIGCONT of guard and app together). */
  readonly resumes: Resume[] = [];
  /** L in ms. */
  protected readonly L: number;

  constructor(
    nodes: readonly SampledNode[],
    readonly haproxy: Haproxy,
    timings: { readonly failOverIntervalSecs: number },
    readonly print: (line: string) => void,
    live: boolean,
  ) {
    this.L = timings.failOverIntervalSecs * 1000;
    this.names = nodes.map((n) => n.name);
    this.sampler = new Sampler(nodes);
    this.client = new Client(haproxy.frontPort);
    this.timeline = new Timeline(Date.now(), this.names, this.client, live ? print : () => undefined);
    this.sampler.onSample = (s) => this.timeline.sample(s);
    if (live) haproxy.onState = (server, state) => this.timeline.note(`haproxy: ${server} ${state}`);
  }

  activeNow(): { node: string; term?: number } | undefined {
    const s = this.sampler.samples[this.sampler.samples.length - 1];
    const i = s?.answers.findIndex((a) => a.code === 200) ?? -1;
    return i >= 0 ? { node: this.names[i], term: s.answers[i].term } : undefined;
  }

  /** Waits for `cond`; a timeout is a violation. */
  async until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
    const t0 = Date.now();
    while (!(await cond())) {
      if (Date.now() - t0 > timeoutMs) {
        this.violations.push(`${new Date().toISOString()} timed out after ${timeoutMs} ms waiting for ${what}`);
        return false;
      }
      await sleep(25);
    }
    return true;
  }

  /**
   * The stall-during-stop nemesis, after its trigger (a step-down or a fence): once the target's
   * stop has begun (its app says it is stopping gracefully, or is gone), waits until just before
   * the stop timeout `stopMs` would escalate to a kill, then stalls the guard alone (`stall`:
   * SIGSTOP; its app and any watchdog run on) for longer than L, runs `meanwhile` (the database
   * back), and resumes it.
   */
  async stallDuringStop(
    target: { readonly name: string; app(): Promise<AppAnswer> },
    old: { node: string } | undefined,
    stopMs: number,
    guard: { stall(): Promise<string>; resume(): Promise<void> },
    meanwhile: () => Promise<void> = async () => undefined,
  ): Promise<void> {
    let stopping = false;
    await this.until(
      `${target.name}: its stop to begin`,
      async () => {
        const a = await target.app();
        stopping = a.ok && !!a.stopping;
        return stopping || !a.ok;
      },
      this.L + 8000,
    );
    if (stopping) await sleep(Math.max(0, stopMs - 500));
    const what = await guard.stall();
    this.timeline.note(`${target.name}: guard (${what}) stopped ${stopping ? 'mid-stop, its app still stopping' : 'after its app was gone'}`);
    await meanwhile();
    await Promise.all([this.until('another node active while the old one stalls', () => this.sampler.active().some((n) => n !== old?.node), this.L + 15000), sleep(this.L + 1000)]);
    await guard.resume();
    this.timeline.note(`${target.name}: guard resumed`);
  }

  /** Exactly one node 200 and the client's last 3 requests succeeded. */
  async stable(timeoutMs = 45000): Promise<boolean> {
    return this.until(
      'one active node and a succeeding client',
      () => {
        const r = this.client.results;
        return this.sampler.active().length === 1 && r.length >= 3 && r.slice(-3).every((x) => x.ok);
      },
      timeoutMs,
    );
  }

  /** Measures every event (failover, downtime up to the next event) and checks the safety rules over the whole run. */
  finish(): ScenarioResult & { events: E[] } {
    const samples = [...this.sampler.samples].sort((a, b) => a.t - b.t);
    const results = this.client.results;
    this.events.forEach((ev, i) => {
      const end = this.events[i + 1]?.begin ?? Infinity;
      ev.failoverMs = failoverMs(samples, this.names, ev.old, ev.at, end);
      ev.downtimeMs = downtimeMs(results, ev.from, end);
    });
    const fs = fences(samples, this.names);
    const records = this.haproxy.records;
    const double = doubleActive(samples, this.names);
    const viaHaproxy = servedAfterFence(records, fs, (node, t) => sampleContext(samples, this.names, node, t));
    const direct = servedByFencedApp(samples, this.names, fs, this.resumes);
    return {
      events: this.events,
      violations: [...double, ...viaHaproxy, ...direct.violations, ...this.violations],
      doubleActive: double.length,
      servedByFenced: { haproxy: viaHaproxy.length, direct: direct.answers },
      servedOnResume: direct.onResume,
      samples: samples.length,
      requests: results.length,
      served: records.filter((r) => r.served).length,
    };
  }
}

class Scenario extends ObservedRun {
  private readonly D: number;
  private readonly S: number;

  constructor(
    readonly env: DrillEnv,
    print: (line: string) => void,
    live: boolean,
  ) {
    super(env.observed, env.haproxy, env.timings, print, live);
    this.D = env.timings.renewDeadlineSecs * 1000;
    this.S = env.timings.stopTimeoutSecs * 1000;
  }

  /** SIGSTOP / SIGCONT of the guard process alone. */
  private guardStall(n: GuardNode): { stall(): Promise<string>; resume(): Promise<void> } {
    return {
      stall: async () => {
        const pid = n.guardPid;
        n.signalGuard('SIGSTOP');
        return `pid ${pid}`;
      },
      resume: async () => n.signalGuard('SIGCONT'),
    };
  }

  private node(name: string): GuardNode {
    return this.env.observed.find((n) => n.name === name)!;
  }


  private otherActive(old: string | undefined): boolean {
    return this.sampler.active().some((n) => n !== old);
  }

  async fault(type: FaultType): Promise<void> {
    const { env } = this;
    const failoverBudget = this.L + 8000;
    const begin = Date.now();
    if (type === 'partition') await this.steerToNamespace();
    const old = this.activeNow();
    const target = old ? this.node(old.node) : undefined;
    const at = Date.now();
    const ev: FaultEvent = { type, old, at, from: at, begin };
    this.timeline.note(`FAULT ${type}${target ? ` on ${target.name}` : ''}`);
    switch (type) {
      case 'crash':
        target?.signalNode('SIGKILL');
        await this.until('another node active after a crash', () => this.otherActive(old?.node), failoverBudget);
        await target?.exited();
        target?.start();
        break;
      case 'guard-kill':
        target?.signalGuard('SIGKILL');
        await this.until('another node active after a guard kill', () => this.otherActive(old?.node), failoverBudget);
        await target?.exited();
        if (target?.appPid()) this.violations.push(`${target.name}: its app still runs after its guard was killed and another node took over`);
        target?.start();
        break;
      case 'pause':
        target?.signalNode('SIGSTOP');
        await Promise.all([this.until('another node active during a pause', () => this.otherActive(old?.node), failoverBudget), sleep(this.L + 500)]);
        target?.signalNode('SIGCONT');
        if (target) this.resumes.push({ node: target.name, at: Date.now() });
        break;
      case 'step-down': {
        const r = await target?.cliAsync('step-down');
        if (r && r.code !== 0) this.violations.push(`${target!.name}: step-down failed: ${r.stderr.trim()}`);
        await this.until('another node active after step-down', () => this.otherActive(old?.node), failoverBudget);
        break;
      }
      case 'db-restart':
        await env.db!.stop!();
        await env.db!.start!();
        break;
      case 'db-stop':
        await env.db!.stop!();
        await sleep(this.D + 1000);
        await env.db!.start!();
        break;
      case 'maintenance': {
        const host = env.nodes.find((n) => !n.netns)!;
        const on = await host.cliAsync('maintenance', 'on');
        if (on.code !== 0) this.violations.push(`maintenance on failed: ${on.stderr.trim()}`);
        await this.until('every app stopped in maintenance', () => this.sampler.active().length === 0 && env.nodes.every((n) => !n.appPid()), 15000);
        await sleep(1000);
        (ev as { at: number }).at = Date.now();
        this.timeline.note('maintenance off');
        const off = await host.cliAsync('maintenance', 'off');
        if (off.code !== 0) this.violations.push(`maintenance off failed: ${off.stderr.trim()}`);
        break;
      }
      case 'stall-stop': {
        if (!target) break;
        const stepDown = target.cliAsync('step-down');
        await this.stallDuringStop(target, old, this.S, this.guardStall(target));
        const r = await stepDown;
        if (r.code !== 0) this.timeline.note(`${target.name}: step-down answered ${r.code} (its guard was stalled): ${r.stderr.trim()}`);
        break;
      }
      case 'stall-fence':
        if (!target) break;
        await env.db!.stop!();
        await this.stallDuringStop(target, old, this.S, this.guardStall(target), () => env.db!.start!());
        break;
      case 'duplicate-id': {
        const dup = env.spare!;
        if (!target || target === dup) break;
        dup.setNodeId(target.nodeId);
        dup.start();
        this.timeline.note(`${dup.name}: a guard started with node.id=${target.nodeId}, as ${target.name}`);
        await sleep(this.L + 2000);
        dup.signalNode('SIGKILL');
        await dup.exited();
        this.timeline.note(`${dup.name}: killed`);
        break;
      }
      case 'partition': {
        const ns = env.netns!;
        const cut = this.namespaced();
        ns.cut();
        await this.until('another node active after the partition', () => this.otherActive(cut.name), failoverBudget);
        await this.until('the cut-off node to stop its app', () => !cut.appPid(), this.L);
        // the log line may trail the kill (the exec watchdog kills at its valid-until on its own)
        const fenceLine = () => cut.logLines().find((l) => l.time >= at && String(l.msg).startsWith('fenced'));
        for (let i = 0; i < 40 && !fenceLine(); i++) await sleep(50);
        const fenced = fenceLine();
        ev.fenceMs = fenced ? fenced.time - at : undefined;
        if (old?.node === cut.name && (ev.fenceMs === undefined || ev.fenceMs > this.D + 250)) {
          const said = cut
            .logLines()
            .filter((l) => l.time >= at)
            .slice(0, 4)
            .map((l) => `+${l.time - at} ms ${l.msg}`);
          this.violations.push(`partition: ${cut.name} fenced ${ev.fenceMs ?? 'never'} ms after the cut; the renew deadline D is ${this.D} ms; its log after the cut: ${said.join('; ') || 'nothing'}`);
        }
        ns.heal();
        break;
      }
    }
    this.events.push(ev);
    await this.stable();
    await sleep(500);
  }

  /** The node in the network namespace (not the spare, which comes after it in the list). */
  private namespaced(): GuardNode {
    return this.env.nodes.find((n) => n.netns)!;
  }

  /** Before a partition: make the namespaced node the active one (step-down others, not measured). */
  private async steerToNamespace(): Promise<void> {
    const ns = this.namespaced().name;
    for (let i = 0; i < 6 && this.activeNow()?.node !== ns; i++) {
      const cur = this.activeNow();
      if (!cur) break;
      await this.node(cur.node).cliAsync('step-down');
      await this.until('a handover while steering', () => this.otherActive(cur.node), this.L + 8000);
      await this.stable();
    }
  }

}

/**
 * Runs `faults` in order against a started environment; prints the live timeline when `live`.
 * The caller tears the environment down.
 */
export async function runScenario(env: DrillEnv, faults: readonly FaultType[], print: (line: string) => void, live = true): Promise<ScenarioResult> {
  const sc = new Scenario(env, print, live);
  sc.sampler.start();
  sc.client.start();
  try {
    if (!(await sc.stable(30000))) throw new Error(`the cluster never became stable: ${sc.violations.join('; ')}`);
    // HAProxy starts every server as up: let its first checks mark the passive ones down
    await sleep(2500);
    for (const [i, f] of faults.entries()) {
      if (!live) print(`fault ${i + 1}/${faults.length}: ${f}`);
      await sc.fault(f);
    }
  } finally {
    await sc.client.stop();
    sc.sampler.stop();
    await sleep(200); // last samples and HAProxy log lines arrive
  }
  return sc.finish();
}

/** One line per event: failover time and client-visible downtime. */
export function eventLines(events: readonly FaultEvent[]): string[] {
  return events.map(
    (e, i) =>
      `event ${String(i + 1).padStart(3)} ${e.type.padEnd(11)} on ${(e.old?.node ?? '-').padEnd(3)}  failover ${fmtSecs(e.failoverMs)}  client downtime ${fmtSecs(e.downtimeMs)}` +
      (e.fenceMs !== undefined ? `  fenced after ${fmtSecs(e.fenceMs)}` : '') +
      (e.failoverMs === undefined ? '  (no failover: the active node kept its lease)' : ''),
  );
}

/** Per fault type: count and median / p95 / max of failover time and downtime. */
export function summaryLines(events: readonly FaultEvent[]): string[] {
  const types = [...new Set(events.map((e) => e.type))];
  const f = (d: ReturnType<typeof distribution>) => (d ? `${fmtSecs(d.median)} ${fmtSecs(d.p95)} ${fmtSecs(d.max)}` : '     —      —      — ');
  const lines = [`${'fault'.padEnd(12)} ${'n'.padStart(4)}   failover median/p95/max    downtime median/p95/max`];
  for (const t of types) {
    const es = events.filter((e) => e.type === t);
    const fo = es.map((e) => e.failoverMs).filter((x): x is number => x !== undefined);
    const dt = es.map((e) => e.downtimeMs).filter((x): x is number => x !== undefined);
    lines.push(`${t.padEnd(12)} ${String(es.length).padStart(4)}   ${f(distribution(fo))}    ${f(distribution(dt))}`);
  }
  const fenced = distribution(events.map((e) => e.fenceMs).filter((x): x is number => x !== undefined));
  if (fenced) lines.push(`partition: cut → the cut-off node fenced (its own log), median/p95/max ${f(fenced)}`);
  const noFailover = events.filter((e) => e.failoverMs === undefined).length;
  if (noFailover) lines.push(`(${noFailover} event(s) without failover: the active node kept its lease, e.g. a database restart shorter than D)`);
  return lines;
}

export type { Sample };

/**
 * Starts an environment, runs `body`, and always tears it down — also on SIGINT/SIGTERM — then
 * verifies with a final scan that no process of the run is left. Resolves with the exit code.
 */
export async function withEnv(env: DrillEnv, print: (line: string) => void, body: () => Promise<number>): Promise<number> {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    print(`${sig}: stopping every process of this run`);
    void env.teardown().then((left) => {
      if (left.length) print(`LEFT BEHIND: pids ${left.join(', ')}`);
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code = 1;
  try {
    await env.start();
    code = await body();
  } catch (e) {
    print(`error: ${e instanceof Error ? e.message : String(e)}`);
    code = 1;
  } finally {
    if (!stopping) {
      const left = await env.teardown();
      if (left.length) {
        print(`LEFT BEHIND after teardown: pids ${left.join(', ')}`);
        code = 1;
      } else {
        print(`cleanup: every process of run ${env.procs.runId} stopped (final scan found none), temp dir removed${env.netns ? ', namespace removed' : ''}`);
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return code;
}

/** The closing report shared by drill and soak: per-event lines, per-type figures, the fence rule and the verdict. */
export function reportLines(r: ScenarioResult, elapsedMs: number): { lines: string[]; ok: boolean } {
  const lines = [
    'per event (failover = fault → first /health 200 on another node or in a newer term; downtime = first failed request → next success):',
    ...eventLines(r.events),
    '',
    ...summaryLines(r.events),
    `${r.samples} health samples (every 50 ms, each node's /health and its app asked directly), ${r.requests} client requests, ${r.served} served per HAProxy's log, ${(elapsedMs / 1000).toFixed(0)} s`,
    `fence rule: a node's tenure (200 answers with one term) ends at the first sample where another node answers 200, or where the node itself reports a role that does not hold the lease (+${STOP_ALLOWANCE_MS} ms to stop the app); no request accepted after that may be served by it (through HAProxy, or by its app asked directly) until it holds the lease again in a newer term`,
    `faults ${r.events.length}: double-active samples ${r.doubleActive}; served by a fenced node ${r.servedByFenced.haproxy} through HAProxy, ${r.servedByFenced.direct} by its app asked directly` +
      (r.servedOnResume ? ` (and ${r.servedOnResume} direct answer(s) within ${RESUME_ALLOWANCE_MS} ms of a whole-node resume, before its guard could run: not counted)` : ''),
  ];
  if (r.violations.length) lines.push(`VIOLATIONS (${r.violations.length}):`, ...r.violations.map((v) => `  ${v}`));
  else lines.push('violations: 0 (no double-active sample, nothing served after a fence, every fault recovered)');
  return { lines, ok: r.violations.length === 0 };
}
