/**
 * The drill's environment, for `npm run drill`, `npm run soak` and test/drill: a PostgreSQL
 * (embedded binaries, or a real one by URL), N guards (the bundled CLI, exec mode) each
 * supervising the demo app, HAProxy in front, and optionally one node in its own network
 * namespace behind a veth pair. Every process it starts belongs to one run (see processes.ts).
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { deriveGuardTimings, type GuardTimings } from '../../lib/contracts/timing';
import { bundleGuard } from './guard-bundle';
import { GuardNode } from './guard-cluster';
import { CHECK, Haproxy, haproxyProblems, type Mode } from './haproxy';
import { freeBlock, linkName, Netns, netName, netnsProblems } from './netns';
import { startPostgres } from './postgres';
import { Procs } from './processes';

/** The database the guards share. */
export interface DrillDatabase {
  /** URL without a password, as seen from the host. */
  readonly url: string;
  /** URL for the namespaced node (host side of the veth), when there is one. */
  readonly extraUrl?: string;
  /** `database.password-source` for the guards. */
  readonly passwordSource: string;
  /** Present for the embedded server only: restart faults need it. */
  stop?(): Promise<void>;
  start?(): Promise<void>;
  destroy(): Promise<void>;
}

/** What the drill and the soak need to know before they start. */
export interface EnvOptions {
  /** L in seconds. @default 6 */
  readonly leaseSecs?: number;
  /** @default 3 */
  readonly nodes?: number;
  /** @default 'tcp' */
  readonly mode?: Mode;
  /** A real database instead of the embedded one (no password in it). */
  readonly databaseUrl?: string;
  /** With databaseUrl: `file:…`/`env:…`/… for the guards. */
  readonly passwordSource?: string;
  /** Put the last node in its own network namespace (root and `ip` needed). @default false */
  readonly partition?: boolean;
  /**
   * How long the app keeps serving after SIGTERM (a slow graceful stop, as vendor app servers
   * have). @default 0 (it exits at once)
   */
  readonly appStopMs?: number;
  /** A spare guard, not started, for the duplicate-node-id fault (sampled and behind HAProxy like the others). @default false */
  readonly spare?: boolean;
}

/** Problems with the machine (missing haproxy / ip / root): one line each. */
export function prerequisiteProblems(o: { partition?: boolean }): string[] {
  return [...haproxyProblems(), ...(o.partition ? netnsProblems('the partition fault') : [])];
}

/** The planned-stop bound S the drills use at most: a handover (and a stall in the middle of one) takes seconds, not the default's tens. */
export const DRILL_MAX_STOP_SECS = 3;

/** Timings for L: derived as the guard derives them, so the invariants hold; S at most {@link DRILL_MAX_STOP_SECS}. */
export function drillTimings(leaseSecs: number): GuardTimings {
  const t = deriveGuardTimings({ failOverIntervalSecs: leaseSecs });
  return t.stopTimeoutSecs > DRILL_MAX_STOP_SECS ? deriveGuardTimings({ failOverIntervalSecs: leaseSecs, stopTimeoutSecs: DRILL_MAX_STOP_SECS }) : t;
}

/** The whole environment, started; `teardown` leaves nothing behind. */
export class DrillEnv {
  readonly procs = new Procs();
  readonly root: string;
  readonly cluster: string;
  readonly timings: GuardTimings;
  readonly mode: Mode;
  readonly nodes: GuardNode[] = [];
  /** The spare guard (see {@link EnvOptions.spare}): started as a clone of another node by the duplicate-node-id fault. */
  spare?: GuardNode;
  netns?: Netns;
  db?: DrillDatabase;
  haproxy: Haproxy;
  private torn = false;

  constructor(readonly opts: EnvOptions = {}) {
    this.root = mkdtempSync(join(tmpdir(), 'failover-drill-'));
    this.cluster = `drill-${this.procs.runId}`;
    this.timings = drillTimings(opts.leaseSecs ?? 6);
    this.mode = opts.mode ?? 'tcp';
    this.haproxy = new Haproxy(this.procs, this.root);
  }

  async start(): Promise<void> {
    const problems = prerequisiteProblems({ partition: this.opts.partition });
    if (problems.length) throw new Error(problems.join('\n'));
    if (this.opts.databaseUrl && this.opts.partition) throw new Error('the partition fault needs the embedded database (it listens on the veth address)');
    let hostAddr: string | undefined;
    let net: string | undefined;
    if (this.opts.partition) {
      // a private /30: host side .1, namespace side .2
      const k = freeBlock('10.213');
      [hostAddr, net] = [`10.213.${k}.1`, `10.213.${k}.0/30`];
      const id = this.procs.runId;
      this.netns = new Netns(netName(`fgdrill-${id}`), linkName(`fgdh${id}`), linkName(`fgdn${id}`), `10.213.${k}.2`, 30, { addr: hostAddr });
      this.netns.create();
    }
    const bundle = bundleGuard(this.root);
    if (this.opts.databaseUrl) {
      if (!this.opts.passwordSource) throw new Error('--password-source is required with --database-url');
      this.db = { url: this.opts.databaseUrl, passwordSource: this.opts.passwordSource, destroy: async () => undefined };
    } else {
      const pg = await startPostgres({ procs: this.procs, extraListen: hostAddr && net ? { address: hostAddr, net } : undefined });
      this.db = { ...pg, destroy: pg.close };
    }
    const db = this.db;
    const count = this.opts.nodes ?? 3;
    const appEnv = this.opts.appStopMs ? `DEMO_STOP_MS=${this.opts.appStopMs}` : undefined;
    const node = (name: string, netns?: Netns) =>
      GuardNode.create(name, this.cluster, bundle, this.root, db, {
        timings: this.timings,
        loadBalancer: CHECK,
        netns,
        databaseUrl: netns ? db.extraUrl : undefined,
        procs: this.procs,
        appEnv,
      });
    for (let i = 0; i < count; i++) this.nodes.push(await node(`n${i}`, i === count - 1 ? this.netns : undefined));
    if (this.opts.spare) this.spare = await node('dup');
    const v = await this.nodes[0].cliAsync('validate');
    if (v.code !== 0) throw new Error(`guard config invalid:\n${v.stderr}${v.stdout}`);
    this.nodes.forEach((n) => n.start());
    await this.haproxy.start(this.mode, this.observed);
  }

  /** Every node the observers watch: the cluster's and the spare. */
  get observed(): GuardNode[] {
    return this.spare ? [...this.nodes, this.spare] : this.nodes;
  }

  /** Kills everything we started, removes the namespace and the temp dirs; returns leftover pids found by the final scan (should be none). */
  async teardown(): Promise<number[]> {
    if (this.torn) return [];
    this.torn = true;
    await this.haproxy.stop().catch(() => undefined);
    for (const n of this.observed) n.signalNode('SIGKILL');
    // the database's own temp dir goes with it
    await this.db?.destroy().catch(() => undefined);
    const left = await this.procs.killAll();
    this.netns?.destroy();
    // FAILOVER_DRILL_KEEP=1 keeps the guard logs and configs for a post-mortem
    if (process.env.FAILOVER_DRILL_KEEP !== '1') rmSync(this.root, { recursive: true, force: true });
    return left;
  }
}
