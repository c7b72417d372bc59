import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'fs';
import * as http from 'http';
import { join } from 'path';
import { freePort } from './ports';
import type { TestDatabase } from './database';

export const DEMO_APP = join(__dirname, 'demo-app.js');

export interface HealthAnswer {
  readonly code: number; // 0 = no answer (refused, timed out)
  readonly body?: { role: string; term: number; holder: string | null; ready: boolean; leaseRemainingMs: number };
}

/** GET http://127.0.0.1:port/path with a short timeout; never throws. */
export function httpGet(port: number, path: string, timeoutMs = 300): Promise<HealthAnswer> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: timeoutMs, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ code: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ code: 0 }));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 50 ms; resolves with the elapsed ms, rejects after `timeoutMs`. */
export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

export interface GuardNodeOptions {
  /** Extra properties lines. */
  readonly extra?: readonly string[];
  /** Extra env for the app's command line (e.g. DEMO_NEVER_READY=1). */
  readonly appEnv?: string;
  /** L. @default 6 */
  readonly failOverSecs?: number;
  /** The app's port. @default - a free one */
  readonly appPort?: number;
  /** Another app than the demo app (e.g. the PaperCut stand-in). @default - the demo app on appPort */
  readonly service?: { readonly command: string; readonly ready: string };
}

/** One "server": a guard process (the bundled CLI) supervising the demo app in exec mode. */
export class GuardNode {
  proc?: ChildProcess;
  readonly dir: string;
  readonly configFile: string;

  private constructor(
    readonly name: string,
    readonly cluster: string,
    readonly healthPort: number,
    readonly appPort: number,
    private readonly bundle: string,
    root: string,
    db: TestDatabase,
    opts: GuardNodeOptions,
  ) {
    this.dir = join(root, cluster, name);
    mkdirSync(this.dir, { recursive: true });
    this.configFile = join(this.dir, 'guard.properties');
    writeFileSync(
      this.configFile,
      [
        `cluster.name=${cluster}`,
        `node.id=${name}`,
        `database.url=${db.url}`,
        `database.password-source=${db.passwordSource}`,
        `high-availability-guard.fail-over-interval-secs=${opts.failOverSecs ?? 6}`,
        // S = 1 s (the demo app stops at once): with L = 6 this leaves D = 3 s of renew budget
        // inside the margin L − D − S ≥ 2 s
        'service.stop-timeout-secs=1',
        `health.port=${healthPort}`,
        'health.bind=127.0.0.1',
        'service.mode=exec',
        `service.command=${opts.service?.command ?? `PORT=${appPort} ${opts.appEnv ?? ''} exec node ${DEMO_APP}`}`,
        `service.ready=${opts.service?.ready ?? `http://127.0.0.1:${appPort}/`}`,
        `notify.command=echo "$FAILOVER_GUARD_EVENT $FAILOVER_GUARD_TERM" >> ${join(this.dir, 'notify.log')}`,
        ...(opts.extra ?? []),
      ].join('\n') + '\n',
    );
  }

  static async create(name: string, cluster: string, bundle: string, root: string, db: TestDatabase, opts: GuardNodeOptions = {}): Promise<GuardNode> {
    return new GuardNode(name, cluster, await freePort(), opts.appPort ?? (await freePort()), bundle, root, db, opts);
  }

  /** The guard as a command line: a `.js` bundle runs under this Node, anything else (the single executable) directly. */
  private argv(...args: string[]): [string, string[]] {
    return this.bundle.endsWith('.js') ? [process.execPath, [this.bundle, ...args]] : [this.bundle, args];
  }

  start(): void {
    const log = openSync(join(this.dir, 'guard.log'), 'a');
    // TMPDIR: the guard keeps the app's pid file there.
    this.proc = spawn(...this.argv('run', '--config', this.configFile), {
      stdio: ['ignore', log, log],
      env: { ...process.env, TMPDIR: this.dir },
    });
    closeSync(log);
  }

  /** Runs a CLI command against this node's config; returns exit code and output. */
  cli(...args: string[]): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(...this.argv(...args, '--config', this.configFile), { encoding: 'utf8', timeout: 20000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  health(): Promise<HealthAnswer> {
    return httpGet(this.healthPort, '/health');
  }

  /** pid (= process group) of the app, from the guard's pid file, if it is alive. */
  appPid(): number | undefined {
    const file = join(this.dir, `failover-guard-${this.cluster}-${this.name}.pid`);
    if (!existsSync(file)) return this.lastAppPid && alive(this.lastAppPid) ? this.lastAppPid : undefined;
    const pid = Number(readFileSync(file, 'utf8'));
    this.lastAppPid = pid;
    return alive(pid) ? pid : undefined;
  }
  private lastAppPid?: number;

  appRunning(): boolean {
    const pid = this.appPid();
    return pid !== undefined;
  }

  signalGuard(sig: NodeJS.Signals): void {
    if (this.proc?.pid) process.kill(this.proc.pid, sig);
  }

  /** Signal to the guard and its app's whole process group together (a whole "server"). */
  signalNode(sig: NodeJS.Signals): void {
    const app = this.appPid();
    this.signalGuard(sig);
    if (app) process.kill(-app, sig);
  }

  exited(): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p?.exitCode ?? null);
    return new Promise((resolve) => p.once('exit', (code) => resolve(code)));
  }

  async kill(): Promise<void> {
    try {
      this.signalNode('SIGKILL');
    } catch {
      // gone
    }
    await this.exited();
  }

  log(): string {
    return readFileSync(join(this.dir, 'guard.log'), 'utf8');
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
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
