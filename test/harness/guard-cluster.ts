/**
 * Guard nodes as processes (the bundled CLI or the single executable, exec mode, supervising the
 * demo app) for the guard tests, the benchmark and the drill, and the at-most-one-active checker.
 */
import { spawnSync, type ChildProcess } from 'child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { GUARD_HEALTH_PATH } from '../../lib/contracts/guard-endpoints';
import type { GuardTimings } from '../../lib/contracts/timing';
import type { TestDatabase } from './database';
import type { CHECK } from './haproxy';
import { httpGet, type HealthAnswer } from './health';
import { IP, type Netns } from './netns';
import { probeApp, type AppAnswer } from '../../scripts/drill/observe';
import { freePort } from './ports';
import { alive, Procs } from './processes';

/** The supervised app (an HTTP server answering with its node and term). */
export const DEMO_APP = join(__dirname, 'demo-app.js');

export interface GuardNodeOptions {
  /** Extra properties lines. */
  readonly extra?: readonly string[];
  /** `node.id` when it differs from the node's name (a duplicate of another node). @default - the name */
  readonly nodeId?: string;
  /** Extra env for the app's command line (e.g. DEMO_NEVER_READY=1). */
  readonly appEnv?: string;
  /** L. @default 6 */
  readonly failOverSecs?: number;
  /** Every timing written out (L, R, Q, D, S) instead of L alone with S = 1 s. */
  readonly timings?: GuardTimings;
  /** The load balancer's check timings, for the guard's timing checks. @default - none */
  readonly loadBalancer?: typeof CHECK;
  /** The app's port. @default - a free one */
  readonly appPort?: number;
  /** Another app than the demo app (e.g. the PaperCut stand-in). @default - the demo app on appPort */
  readonly service?: { readonly command: string; readonly ready: string };
  /** Run in this network namespace (health and app then bind every address there). */
  readonly netns?: Netns;
  /** `database.url` when it differs from the database's own (a node in a namespace). */
  readonly databaseUrl?: string;
  /** The run the node's processes belong to (marker, final scan). @default - a run of its own */
  readonly procs?: Procs;
  /**
   * Timeout of one /health request (a loaded CI machine can take a few hundred ms to answer).
   * @default 1000
   */
  readonly healthTimeoutMs?: number;
}

/** One "server": a guard process supervising the demo app in exec mode, optionally in a network namespace. */
export class GuardNode {
  proc?: ChildProcess;
  readonly dir: string;
  readonly configFile: string;
  /** Address HAProxy and the samplers use. */
  readonly addr: string;
  readonly netns?: Netns;
  private readonly procs: Procs;
  private readonly healthTimeoutMs: number;
  private lastAppPid?: number;
  private nodeIdNow: string;

  private constructor(
    readonly name: string,
    readonly cluster: string,
    readonly healthPort: number,
    readonly appPort: number,
    private readonly bundle: string,
    root: string,
    db: Pick<TestDatabase, 'url' | 'passwordSource'>,
    opts: GuardNodeOptions,
  ) {
    this.netns = opts.netns;
    this.procs = opts.procs ?? new Procs();
    this.healthTimeoutMs = opts.healthTimeoutMs ?? 1000;
    this.addr = opts.netns ? opts.netns.nsAddr : '127.0.0.1';
    this.nodeIdNow = opts.nodeId ?? name;
    this.dir = join(root, cluster, name);
    mkdirSync(this.dir, { recursive: true });
    this.configFile = join(this.dir, 'guard.properties');
    // inside its own namespace the node may bind every address: nothing else lives there
    const bind = opts.netns ? '0.0.0.0' : '127.0.0.1';
    const t = opts.timings;
    const lb = opts.loadBalancer;
    writeFileSync(
      this.configFile,
      [
        `cluster.name=${cluster}`,
        `node.id=${this.nodeIdNow}`,
        `database.url=${opts.databaseUrl ?? db.url}`,
        `database.password-source=${db.passwordSource}`,
        `high-availability-guard.fail-over-interval-secs=${t?.failOverIntervalSecs ?? opts.failOverSecs ?? 6}`,
        ...(t
          ? [
              `high-availability-guard.renew-period-secs=${t.renewPeriodSecs}`,
              `high-availability-guard.query-timeout-secs=${t.queryTimeoutSecs}`,
              `high-availability-guard.renew-deadline-secs=${t.renewDeadlineSecs}`,
              'high-availability-guard.startup-timeout-secs=30',
            ]
          : []),
        // S = 1 s (the demo app stops at once): with L = 6 this leaves D = 3 s of renew budget
        // inside the margin L − D − S ≥ 2 s
        `service.stop-timeout-secs=${t?.stopTimeoutSecs ?? 1}`,
        ...(lb
          ? [
              `load-balancer.interval-secs=${lb.intervalSecs}`,
              `load-balancer.timeout-secs=${lb.timeoutSecs}`,
              `load-balancer.healthy-threshold=${lb.healthyThreshold}`,
              `load-balancer.unhealthy-threshold=${lb.unhealthyThreshold}`,
            ]
          : []),
        `health.port=${healthPort}`,
        `health.bind=${bind}`,
        'service.mode=exec',
        `service.command=${opts.service?.command ?? `PORT=${appPort} BIND=${bind} ${opts.appEnv ?? ''} exec ${process.execPath} ${DEMO_APP}`}`,
        `service.ready=${opts.service?.ready ?? `http://127.0.0.1:${appPort}/`}`,
        `notify.command=echo "$FAILOVER_GUARD_EVENT $FAILOVER_GUARD_TERM" >> ${join(this.dir, 'notify.log')}`,
        ...(opts.extra ?? []),
      ].join('\n') + '\n',
    );
  }

  static async create(name: string, cluster: string, bundle: string, root: string, db: Pick<TestDatabase, 'url' | 'passwordSource'>, opts: GuardNodeOptions = {}): Promise<GuardNode> {
    return new GuardNode(name, cluster, await freePort(), opts.appPort ?? (await freePort()), bundle, root, db, opts);
  }

  /**
   * The guard as a command line, where this node lives: a `.js` bundle runs under this Node,
   * anything else (the single executable) directly; `ip netns exec` execs it in place, so the pid
   * we hold is the guard's.
   */
  private argv(...args: string[]): [string, string[]] {
    const cmd = this.bundle.endsWith('.js') ? [process.execPath, this.bundle, ...args] : [this.bundle, ...args];
    return this.netns ? [IP, ['netns', 'exec', this.netns.name, ...cmd]] : [cmd[0], cmd.slice(1)];
  }

  start(): void {
    // TMPDIR: the guard keeps the app's pid file there.
    this.proc = this.procs.spawn(...this.argv('run', '--config', this.configFile), { log: join(this.dir, 'guard.log'), env: { TMPDIR: this.dir } });
  }

  /** The guard's `node.id`. */
  get nodeId(): string {
    return this.nodeIdNow;
  }

  /** Rewrites `node.id` in the config (takes effect at the next {@link start}): a clone of another node. */
  setNodeId(id: string): void {
    const text = readFileSync(this.configFile, 'utf8');
    writeFileSync(this.configFile, text.replace(/^node\.id=.*$/m, `node.id=${id}`));
    this.nodeIdNow = id;
  }

  /** Its app asked directly (not through HAProxy). */
  app(): Promise<AppAnswer> {
    return probeApp(this.addr, this.appPort);
  }

  /** Runs a CLI command against this node's config; returns exit code and output. */
  cli(...args: string[]): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(...this.argv(...args, '--config', this.configFile), { encoding: 'utf8', timeout: 20000, env: this.procs.env() });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** {@link cli} without blocking the event loop (samplers keep sampling meanwhile). */
  cliAsync(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return this.procs.run(...this.argv(...args, '--config', this.configFile));
  }

  health(timeoutMs = this.healthTimeoutMs): Promise<HealthAnswer> {
    return httpGet(this.healthPort, GUARD_HEALTH_PATH, timeoutMs, this.addr);
  }

  /** The guard's pid while it runs. */
  get guardPid(): number | undefined {
    const p = this.proc;
    return p && p.exitCode === null && p.signalCode === null ? p.pid : undefined;
  }

  /** pid (= process group) of the app, from the guard's pid file, if it is alive. */
  appPid(): number | undefined {
    const file = join(this.dir, `failover-guard-${this.cluster}-${this.nodeIdNow}.pid`);
    let pid: number;
    try {
      pid = Number(readFileSync(file, 'utf8'));
    } catch {
      // no app, or the guard just removed the file: an app it lost track of still counts
      return this.lastAppPid && alive(this.lastAppPid) ? this.lastAppPid : undefined;
    }
    if (pid > 0) this.lastAppPid = pid;
    return pid > 0 && alive(pid) ? pid : undefined;
  }

  appRunning(): boolean {
    return this.appPid() !== undefined;
  }

  signalGuard(sig: NodeJS.Signals): void {
    const pid = this.guardPid;
    if (pid) signal(pid, sig);
  }

  /** Signal to the guard's and its app's whole process groups together (a whole "server"). */
  signalNode(sig: NodeJS.Signals): void {
    const app = this.appPid();
    const guard = this.guardPid;
    if (guard) signal(-guard, sig);
    if (app) signal(-app, sig);
  }

  exited(): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p?.exitCode ?? null);
    return new Promise((resolve) => p.once('exit', (code) => resolve(code)));
  }

  async kill(): Promise<void> {
    this.signalNode('SIGKILL');
    await this.exited();
  }

  log(): string {
    const file = join(this.dir, 'guard.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** The guard's pino log lines (JSON), parsed. */
  logLines(): { time: number; msg: string; [k: string]: unknown }[] {
    return parseLogLines(this.log());
  }
}

/** The JSON lines (pino) of a guard log, parsed; other lines skipped. */
export function parseLogLines(text: string): { time: number; msg: string; [k: string]: unknown }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
}

/**
 * The at-most-one-active checker: every 40 ms asks every node's /health at once and records any
 * sample where two nodes of the same cluster answered 200.
 */
export class ActiveChecker {
  private nodes: GuardNode[] = [];
  private timer?: NodeJS.Timeout;
  samples = 0;
  readonly violations: string[] = [];

  watch(nodes: GuardNode[]): void {
    this.nodes = nodes;
  }

  start(): void {
    this.timer = setInterval(() => void this.sample(), 40);
  }

  private async sample(): Promise<void> {
    const nodes = this.nodes;
    const answers = await Promise.all(nodes.map((n) => n.health()));
    this.samples++;
    const byCluster = new Map<string, string[]>();
    answers.forEach((a, i) => {
      if (a.code === 200) byCluster.set(nodes[i].cluster, [...(byCluster.get(nodes[i].cluster) ?? []), nodes[i].name]);
    });
    for (const [cluster, active] of byCluster) {
      if (active.length > 1) this.violations.push(`${new Date().toISOString()} ${cluster}: ${active.join(', ')} all 200`);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Names of the nodes answering 200 right now. */
export async function activeNodes(nodes: GuardNode[]): Promise<string[]> {
  const answers = await Promise.all(nodes.map((n) => n.health()));
  return nodes.filter((_, i) => answers[i].code === 200).map((n) => n.name);
}
