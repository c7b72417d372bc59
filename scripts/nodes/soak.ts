/**
 * `npm run soak:nodes -- --faults N --seed S`: the soak on booted nodes (systemd 252 in
 * systemd-nspawn, the guard in systemd mode, see cluster.ts). A seeded sequence of faults against
 * the active node — `systemctl kill -s KILL` of the guard, kill of the app, `systemctl stop` of
 * the guard, the guard frozen (SIGSTOP) past L, hard power-off, network cut, reboot, the guard
 * stalled past L in the middle of a planned stop (step-down) or of a fence (the database stopped
 * past D), a clone of the active node (same host name, so the same node id) booted for L + 2 s (the active node must keep its lease meanwhile: a duplicate node id is never acted on) — checked
 * with the drill's rules (no two nodes /health 200 in one sample, nothing served by a fenced
 * node through HAProxy or by its app asked directly; the app serves on for S + 2 s after SIGTERM;
 * a powered-off or rebooted node coming back leaves the node that took over its lease) and measured: failover and client downtime per fault type, and guard kill → app stopped.
 * Exit 1 on any violation.
 */
import { APP_UNIT, BootedCluster, GUARD_UNIT, HEALTH_PORT, nodeSpec, type BootedNode } from '../../test/harness/booted-nodes';
import { GUARD_STEP_DOWN_PATH } from '../../lib/contracts/guard-endpoints';
import { sleep } from '../../test/harness/wait';
import { distribution, fmtSecs } from '../drill/observe';
import { faultSequence, ObservedRun, reportLines, type FaultEvent, type ScenarioResult } from '../drill/run';
import { parseSoakArgs, soakCommand } from '../drill/cli';

export const NODE_FAULTS = ['guard-kill', 'app-kill', 'guard-stop', 'freeze', 'power-off', 'partition', 'reboot', 'stall-stop', 'stall-fence', 'duplicate-id'] as const;
export type NodeFault = (typeof NODE_FAULTS)[number];

export interface NodeFaultEvent extends FaultEvent {
  readonly type: NodeFault;
  /** guard-kill and freeze: the fault → the app unit inactive on that node (systemd's own timestamp). */
  appStoppedMs?: number;
}

export interface NodeSoakResult extends ScenarioResult {
  readonly events: NodeFaultEvent[];
}

/** Host CLOCK_MONOTONIC in µs: the nodes share it (no time namespace), so systemd's *Monotonic timestamps compare. */
const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Runs faults against a started cluster. */
export class NodeScenario extends ObservedRun<NodeFaultEvent> {
  constructor(
    readonly cluster: BootedCluster,
    print: (line: string) => void,
    live: boolean,
  ) {
    super(cluster.observed, cluster.haproxy, cluster.timings, print, live);
  }

  /** SIGSTOP / SIGCONT of the guard's main process inside the node. */
  private guardStall(n: BootedNode): { stall(): Promise<string>; resume(): Promise<void> } {
    let pid = 0;
    return {
      stall: async () => {
        pid = await n.mainPid(GUARD_UNIT);
        await n.exec(['/bin/kill', '-STOP', String(pid)]);
        return `pid ${pid}`;
      },
      resume: async () => void (await n.exec(['/bin/kill', '-CONT', String(pid)])),
    };
  }

  start(): void {
    this.sampler.start();
    this.client.start();
  }

  async stop(): Promise<void> {
    await this.client.stop();
    this.sampler.stop();
    await sleep(200); // last samples and HAProxy log lines arrive
  }

  /** Some node answers 200 other than `old` in its term (another node, or the same in a newer term). */
  private moved(old: { node: string; term?: number } | undefined): boolean {
    const s = this.sampler.samples[this.sampler.samples.length - 1];
    return !!s && s.answers.some((a, i) => a.code === 200 && (this.names[i] !== old?.node || a.term !== old.term));
  }

  private node(name: string): BootedNode {
    return this.cluster.observed.find((n) => n.name === name)!;
  }

  /** The first sample from index `from` on where some node answers 200 other than `holder` in its term. */
  private movedSince(from: number, holder: { node: string; term?: number }): { line: string } | undefined {
    const s = this.sampler.samples.slice(from).find((x) => x.answers.some((a, i) => a.code === 200 && (this.names[i] !== holder.node || a.term !== holder.term)));
    return s && { line: s.answers.map((a, i) => `${this.names[i]} ${a.code}${a.term !== undefined ? ` term ${a.term}` : ''}`).join(', ') };
  }

  /**
   * A node that comes back (its guard starting anew) must leave the node that took over alone: its
   * guard's start-up clean-up concerns its own machine only. Checked once R + 2 s have passed
   * after its guard serves again (time for the active node to notice a killed app).
   */
  private async rejoinedQuietly(target: BootedNode, from: number): Promise<void> {
    await sleep(this.cluster.timings.renewPeriodSecs * 1000 + 2000);
    const first = this.sampler.samples.slice(from).flatMap((x) => x.answers.map((a, i) => ({ a, node: this.names[i] }))).find((x) => x.a.code === 200);
    if (!first) return;
    const moved = this.movedSince(from, { node: first.node, term: first.a.term });
    if (moved) this.violations.push(`${target.name} came back and ${first.node} (term ${first.a.term}) lost its lease: ${moved.line}`);
  }

  /** When the app unit went inactive on `n` after `sinceUs`, in ms after it (systemd's journal; the unit itself is unloaded once inactive). */
  private async appStoppedAfter(n: BootedNode, sinceUs: number): Promise<number | undefined> {
    await this.until(`${n.name}: the app stopped`, async () => !['active', 'deactivating'].includes(await n.state(APP_UNIT)), this.L);
    const at = await n.unitInactiveAt(APP_UNIT, sinceUs);
    return at === undefined ? undefined : Math.round((at - sinceUs) / 1000);
  }

  async fault(type: NodeFault): Promise<NodeFaultEvent> {
    const budget = this.L + 15000;
    const begin = Date.now();
    // a fault is against the active node: the last sample may have caught none (a handover, a slow answer)
    for (let i = 0; i < 100 && !this.activeNow(); i++) await sleep(100);
    const old = this.activeNow();
    const target = old ? this.node(old.node) : this.cluster.nodes[0];
    const at = Date.now();
    const atUs = monoUs();
    const ev: NodeFaultEvent = { type, old, at, from: at, begin };
    this.timeline.note(`FAULT ${type} on ${target.name}`);
    const failover = (what: string) => this.until(`failover after ${what} on ${target.name}`, () => this.moved(old), budget);
    switch (type) {
      case 'guard-kill':
        await target.systemctl('kill', '-s', 'KILL', GUARD_UNIT);
        ev.appStoppedMs = await this.appStoppedAfter(target, atUs);
        await failover(type);
        break;
      case 'app-kill':
        await target.systemctl('kill', '-s', 'KILL', APP_UNIT);
        await failover(type);
        break;
      case 'guard-stop': {
        const stopped = target.systemctl('stop', GUARD_UNIT);
        await failover(type);
        await stopped;
        await target.systemctl('start', GUARD_UNIT);
        break;
      }
      case 'freeze': {
        const pid = await target.mainPid(GUARD_UNIT);
        await target.exec(['/bin/kill', '-STOP', String(pid)]);
        ev.appStoppedMs = await this.appStoppedAfter(target, atUs);
        await Promise.all([failover(type), sleep(this.L + 500)]);
        // the watchdog has killed it by now; a guard still stopped would be a finding
        if ((await target.mainPid(GUARD_UNIT)) === pid) this.violations.push(`${target.name}: the frozen guard (pid ${pid}) was not killed by the watchdog within L`);
        await target.exec(['/bin/kill', '-CONT', String(pid)]);
        break;
      }
      case 'power-off':
        await target.powerOff();
        await failover(type);
        {
          const from = this.sampler.samples.length - 1;
          target.boot();
          await target.waitGuardServing();
          await this.rejoinedQuietly(target, from);
        }
        break;
      case 'partition':
        target.cut();
        await failover(type);
        {
          const fenced = target.guardLog().find((l) => l.time >= at && String(l.msg).startsWith('fenced'));
          ev.fenceMs = fenced ? fenced.time - at : undefined;
        }
        target.heal();
        break;
      case 'stall-stop': {
        const S = this.cluster.timings.stopTimeoutSecs * 1000;
        const r = await target.exec(['/usr/bin/curl', '-fsS', '-X', 'POST', `http://127.0.0.1:${HEALTH_PORT}${GUARD_STEP_DOWN_PATH}`]);
        if (r.code !== 0) this.violations.push(`${target.name}: step-down failed: ${r.stderr.trim()}`);
        await this.stallDuringStop(target, old, S, this.guardStall(target));
        break;
      }
      case 'stall-fence': {
        const db = this.cluster.db!;
        await db.stop();
        await this.stallDuringStop(target, old, this.cluster.timings.stopTimeoutSecs * 1000, this.guardStall(target), () => db.start());
        break;
      }
      case 'duplicate-id': {
        const dup = this.cluster.spare!;
        if (target === dup) break;
        const from = this.sampler.samples.length;
        dup.boot(target.name);
        await dup.waitGuardServing();
        this.timeline.note(`${dup.name}: booted as a clone of ${target.name} (host name, so node id, ${target.name}), its guard serving`);
        await sleep(this.L + 2000);
        // a duplicate node id is reported, never acted on: the live node keeps its lease while the clone runs
        const moved = old && this.movedSince(from, old);
        if (moved) this.violations.push(`duplicate-id: ${old!.node} (term ${old!.term}) lost its lease while its clone ran: ${moved.line}`);
        await dup.powerOff();
        this.timeline.note(`${dup.name}: powered off`);
        break;
      }
      case 'reboot':
        await target.systemctl('reboot', '--no-block');
        await failover(type);
        {
          const from = this.sampler.samples.length - 1;
          await target.exited();
          target.boot();
          await target.waitGuardServing();
          await this.rejoinedQuietly(target, from);
        }
        break;
    }
    this.events.push(ev);
    await this.stable(60000);
    await sleep(500);
    return ev;
  }
}

/** Guard kill (and freeze) → app stopped, median/p95/max. */
export function appStopLines(events: readonly NodeFaultEvent[]): string[] {
  return (['guard-kill', 'freeze'] as const).flatMap((t) => {
    const d = distribution(events.filter((e) => e.type === t && e.appStoppedMs !== undefined).map((e) => e.appStoppedMs!));
    return d ? [`${t} → app stopped (systemd's timestamp), n ${d.n}, median/p95/max ${fmtSecs(d.median)} ${fmtSecs(d.p95)} ${fmtSecs(d.max)}`] : [];
  });
}

export interface NodeSoakOptions {
  readonly faults: number;
  readonly seed: number;
  /** @default 3 */
  readonly nodes?: number;
  /** @default 10 */
  readonly leaseSecs?: number;
  readonly types?: readonly NodeFault[];
  readonly verbose?: boolean;
  /** How long the app serves on after SIGTERM. @default the stop timeout S + 2 s (a slow vendor app) */
  readonly appStopMs?: number;
}

/** Boots the cluster, runs the seeded faults, tears everything down; prints as it goes. */
export async function soakNodes(o: NodeSoakOptions, print: (l: string) => void): Promise<{ code: number; result?: NodeSoakResult; left: string[] }> {
  const types = o.types ?? NODE_FAULTS;
  const seq = faultSequence(o.faults, o.seed, types);
  const leaseSecs = o.leaseSecs ?? 10;
  const appStopMs = o.appStopMs ?? (nodeSpec(leaseSecs).guard.stopTimeoutSecs + 2) * 1000;
  const cluster = new BootedCluster({ nodes: o.nodes ?? 3, leaseSecs, appStopMs, spare: types.includes('duplicate-id') });
  const t = cluster.timings;
  print(`soak:nodes: ${o.faults} faults, seed ${o.seed}, ${o.nodes ?? 3} booted nodes (systemd-nspawn, guard in systemd mode), L=${t.failOverIntervalSecs}s R=${t.renewPeriodSecs}s D=${t.renewDeadlineSecs}s S=${t.stopTimeoutSecs}s, app stops ${appStopMs / 1000}s after SIGTERM, HAProxy tcp inter 1s fall 2 rise 1`);
  print(`fault types: ${types.join(', ')}`);
  let result: NodeSoakResult | undefined;
  let code = 1;
  const t0 = Date.now();
  const onSignal = () => void cluster.teardown().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await cluster.start();
    print(`booted ${cluster.nodes.length} nodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const sc = new NodeScenario(cluster, print, o.verbose ?? false);
    sc.start();
    try {
      if (!(await sc.stable(60000))) throw new Error(`the cluster never became stable: ${sc.violations.join('; ')}`);
      await sleep(2500); // HAProxy's first checks mark the passive nodes down
      for (const [i, f] of seq.entries()) {
        if (!o.verbose) print(`fault ${i + 1}/${seq.length}: ${f}`);
        await sc.fault(f);
      }
    } finally {
      await sc.stop();
    }
    result = sc.finish();
    print('');
    const { lines, ok } = reportLines(result, Date.now() - t0);
    lines.forEach(print);
    appStopLines(result.events).forEach(print);
    code = ok ? 0 : 1;
  } catch (e) {
    print(`error: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const left = await cluster.teardown();
  if (left.length) {
    print(`LEFT BEHIND: ${left.join(', ')}`);
    code = 1;
  } else print(`cleanup: every node, namespace, link and the bridge ${cluster.bridge} removed, temp dir removed`);
  return { code, result, left };
}

async function main(argv: string[]): Promise<number> {
  const program = soakCommand('soak:nodes', 'Fault soak on booted systemd nodes (root, systemd-container, iproute2, haproxy).', { leaseSecs: 10, nodesWhat: 'nodes', types: NODE_FAULTS });
  const o = parseSoakArgs(program, argv, NODE_FAULTS);
  if (!o) return 2;
  const r = await soakNodes(o, (l) => console.log(l));
  return r.code;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
