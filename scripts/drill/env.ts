/**
 * The drill's environment, for `npm run drill`, `npm run soak` and test/drill: a PostgreSQL
 * (embedded binaries, or a real one by URL), N guards (the bundled CLI, exec mode) each
 * supervising the demo app, HAProxy in front with a syslog socket we read, and optionally one
 * node in its own network namespace behind a veth pair. Every process we start carries a
 * run marker in its environment, so the final scan finds exactly ours (and their children).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'child_process';
import * as dgram from 'dgram';
import { chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'fs';
import * as http from 'http';
import * as net from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { deriveGuardTimings, type GuardTimings } from '../../lib/spec/timing';
import { GUARD_HEALTH_PATH } from '../../lib/spec/guard-endpoints';
import { bundleGuard } from '../../test/helpers/guard-bundle';
import { freePort } from '../../test/helpers/ports';
import { postgresBinDir, postgresIds } from '../../test/helpers/postgres';

export const HAPROXY = '/usr/sbin/haproxy';
export const IP = '/usr/sbin/ip';
const DEMO_APP = join(__dirname, 'demo-app.js');
/** Environment variable every process of one run carries (value: the run id). */
export const RUN_MARK = 'FAILOVER_DRILL_RUN';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** HAProxy health-check timings the drill uses (inter 1s fall 2 rise 1, timeout check 1s). */
export const CHECK = { intervalSecs: 1, timeoutSecs: 1, healthyThreshold: 1, unhealthyThreshold: 2 } as const;

export interface HealthAnswer {
  /** 0 = no answer (refused, timed out, unreachable). */
  readonly code: number;
  readonly role?: string;
  readonly term?: number;
}

/** GET http://host:port/path with a short timeout; never throws. */
export function getHealth(host: string, port: number, timeoutMs = 300): Promise<HealthAnswer> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: GUARD_HEALTH_PATH, timeout: timeoutMs, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        try {
          const b = JSON.parse(text) as { role?: string; term?: number };
          resolve({ code: res.statusCode ?? 0, role: b.role, term: b.term });
        } catch {
          resolve({ code: res.statusCode ?? 0 });
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ code: 0 }));
  });
}

/** Processes of one run: spawned in their own process groups, found again by the run marker. */
export class Procs {
  readonly runId = Math.random().toString(36).slice(2, 10);
  private readonly groups = new Set<number>();

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...process.env, [RUN_MARK]: this.runId, ...extra };
  }

  spawn(cmd: string, args: string[], opts: { env?: Record<string, string>; log?: string; uid?: number; gid?: number } = {}): ChildProcess {
    const fd = opts.log ? openSync(opts.log, 'a') : 'ignore';
    const p = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env: this.env(opts.env), uid: opts.uid, gid: opts.gid });
    if (typeof fd === 'number') closeSync(fd);
    p.on('error', () => undefined);
    if (p.pid) this.groups.add(p.pid);
    return p;
  }

  /** Runs a command to completion without blocking the event loop (samplers keep sampling). */
  run(cmd: string, args: string[], timeoutMs = 20000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(cmd, args, { env: this.env(), timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** pids of live processes carrying this run's marker (children included), except ourselves. */
  leftovers(): number[] {
    const mark = `${RUN_MARK}=${this.runId}`;
    const found: number[] = [];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
      try {
        if (readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(mark)) found.push(Number(d));
      } catch {
        // gone, or not ours to read
      }
    }
    return found;
  }

  /** SIGKILL to every group we started, then to anything still carrying the marker; returns what the last scan found. */
  async killAll(): Promise<number[]> {
    for (const g of this.groups) killGroup(g, 'SIGKILL');
    let left: number[] = [];
    for (let i = 0; i < 40; i++) {
      left = this.leftovers();
      if (left.length === 0) return [];
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await sleep(100);
    }
    return left;
  }
}

export function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // gone
  }
}

export function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The database the guards share. */
export interface DrillDatabase {
  /** URL without a password, as seen from the host. */
  readonly url: string;
  /** URL for the namespaced node (host side of the veth), when there is one. */
  readonly nsUrl?: string;
  /** `database.password-source` for the guards. */
  readonly passwordSource: string;
  /** Present for the embedded server only: restart faults need it. */
  stop?(): Promise<void>;
  start?(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Embedded PostgreSQL in `root/pg`, listening on 127.0.0.1 and, for a namespaced node, on the
 * host side of the veth (`extraListen`, with a pg_hba line for `extraNet`).
 */
export async function startEmbeddedPostgres(procs: Procs, root: string, extra?: { listen: string; net: string }): Promise<DrillDatabase> {
  const ids = postgresIds();
  const dir = join(root, 'pg');
  mkdirSync(dir);
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  const password = 'drill-' + Math.random().toString(36).slice(2);
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  if (ids.uid !== undefined) for (const p of [root, dir, sock, pwfile]) chownSync(p, ids.uid, ids.gid!);
  const bin = postgresBinDir();
  execFileSync(join(bin, 'initdb'), [`--pgdata=${data}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8', '--locale=C'], { ...ids, stdio: 'pipe' });
  if (extra) appendFileSync(join(data, 'pg_hba.conf'), `host all all ${extra.net} scram-sha-256\n`);
  // the guards read the password from a root-only file
  const guardPw = join(root, 'db-password');
  writeFileSync(guardPw, password + '\n', { mode: 0o600 });
  const port = await freePort();
  const listen = ['127.0.0.1', ...(extra ? [extra.listen] : [])].join(',');
  let proc: ChildProcess | undefined;
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const p = procs.spawn(
        join(bin, 'postgres'),
        ['-D', data, '-p', String(port), '-k', sock, '-c', `listen_addresses=${listen}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
        { ...ids, log: undefined, env: { LC_MESSAGES: 'C' } },
      );
      proc = p;
      // readiness: the port accepts connections
      const t0 = Date.now();
      const tryConnect = (): void => {
        if (p.exitCode !== null) return reject(new Error(`postgres exited (${p.exitCode})`));
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve();
        });
        s.once('error', () => {
          s.destroy();
          if (Date.now() - t0 > 20000) reject(new Error('postgres did not start in 20 s'));
          else setTimeout(tryConnect, 50);
        });
      };
      setTimeout(tryConnect, 100);
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGINT'); // fast shutdown: disconnects clients at once
    });
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    nsUrl: extra ? `postgres://postgres@${extra.listen}:${port}/postgres` : undefined,
    passwordSource: `file:${guardPw}`,
    start,
    stop,
    destroy: stop,
  };
}

/**
 * A network namespace joined to the host by a veth pair on a private /30 (10.213.k.0/30, k the
 * first block not already on an interface here): host side .1, namespace side .2.
 */
export class Netns {
  readonly name: string;
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostAddr: string;
  readonly nsAddr: string;
  readonly net: string;
  private created = false;

  constructor(runId: string) {
    this.name = `fgdrill-${runId}`;
    this.hostIf = `fgdh${runId.slice(0, 8)}`;
    this.nsIf = `fgdn${runId.slice(0, 8)}`;
    const used = execFileSync(IP, ['-o', '-4', 'addr', 'show']).toString();
    let k = 0;
    while (k < 256 && used.includes(`10.213.${k}.`)) k++;
    if (k === 256) throw new Error('no free 10.213.k.0/30 block for the partition namespace');
    this.net = `10.213.${k}.0/30`;
    this.hostAddr = `10.213.${k}.1`;
    this.nsAddr = `10.213.${k}.2`;
  }

  create(): void {
    const ip = (...a: string[]) => execFileSync(IP, a, { stdio: 'pipe' });
    this.created = true;
    ip('netns', 'add', this.name);
    ip('link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.nsIf);
    ip('link', 'set', this.nsIf, 'netns', this.name);
    ip('addr', 'add', `${this.hostAddr}/30`, 'dev', this.hostIf);
    ip('link', 'set', this.hostIf, 'up');
    ip('-n', this.name, 'addr', 'add', `${this.nsAddr}/30`, 'dev', this.nsIf);
    ip('-n', this.name, 'link', 'set', this.nsIf, 'up');
    ip('-n', this.name, 'link', 'set', 'lo', 'up');
  }

  /** Cuts the link: packets are dropped silently, as in a real partition (no resets). */
  cut(): void {
    execFileSync(IP, ['link', 'set', this.hostIf, 'down']);
  }

  heal(): void {
    execFileSync(IP, ['link', 'set', this.hostIf, 'up']);
  }

  destroy(): void {
    if (!this.created) return;
    this.created = false;
    for (const a of [['link', 'del', this.hostIf], ['netns', 'del', this.name]]) {
      try {
        execFileSync(IP, a, { stdio: 'pipe' });
      } catch {
        // already gone
      }
    }
  }
}

export interface NodeSettings {
  readonly timings: GuardTimings;
  readonly cluster: string;
  readonly bundle: string;
  readonly root: string;
  readonly db: DrillDatabase;
  readonly procs: Procs;
}

/** One "server": a guard process supervising the demo app; optionally inside a network namespace. */
export class DrillNode {
  readonly dir: string;
  readonly configFile: string;
  proc?: ChildProcess;
  /** Address HAProxy and the samplers use. */
  readonly addr: string;

  constructor(
    readonly name: string,
    readonly healthPort: number,
    readonly appPort: number,
    private readonly s: NodeSettings,
    readonly netns?: Netns,
  ) {
    this.addr = netns ? netns.nsAddr : '127.0.0.1';
    this.dir = join(s.root, name);
    mkdirSync(this.dir);
    this.configFile = join(this.dir, 'guard.properties');
    const t = s.timings;
    // inside its own namespace the node may bind every address: nothing else lives there
    const bind = netns ? '0.0.0.0' : '127.0.0.1';
    const url = netns ? s.db.nsUrl! : s.db.url;
    writeFileSync(
      this.configFile,
      [
        `cluster.name=${s.cluster}`,
        `node.id=${name}`,
        `database.url=${url}`,
        `database.password-source=${s.db.passwordSource}`,
        `high-availability-guard.fail-over-interval-secs=${t.failOverIntervalSecs}`,
        `high-availability-guard.renew-period-secs=${t.renewPeriodSecs}`,
        `high-availability-guard.query-timeout-secs=${t.queryTimeoutSecs}`,
        `high-availability-guard.renew-deadline-secs=${t.renewDeadlineSecs}`,
        `high-availability-guard.startup-timeout-secs=30`,
        `service.stop-timeout-secs=${t.stopTimeoutSecs}`,
        `load-balancer.interval-secs=${CHECK.intervalSecs}`,
        `load-balancer.timeout-secs=${CHECK.timeoutSecs}`,
        `load-balancer.healthy-threshold=${CHECK.healthyThreshold}`,
        `load-balancer.unhealthy-threshold=${CHECK.unhealthyThreshold}`,
        `health.port=${healthPort}`,
        `health.bind=${bind}`,
        'service.mode=exec',
        `service.command=PORT=${appPort} BIND=${bind} exec ${process.execPath} ${DEMO_APP}`,
        `service.ready=http://127.0.0.1:${appPort}/`,
      ].join('\n') + '\n',
    );
  }

  /** argv prefix that runs a command where this node lives. */
  private where(cmd: string[]): [string, string[]] {
    return this.netns ? [IP, ['netns', 'exec', this.netns.name, ...cmd]] : [cmd[0], cmd.slice(1)];
  }

  start(): void {
    // `ip netns exec` execs the guard in place, so the pid we hold is the guard's
    const [cmd, args] = this.where([process.execPath, this.s.bundle, 'run', '--config', this.configFile]);
    this.proc = this.s.procs.spawn(cmd, args, { log: join(this.dir, 'guard.log'), env: { TMPDIR: this.dir } });
  }

  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const [cmd, a] = this.where([process.execPath, this.s.bundle, ...args, '--config', this.configFile]);
    return this.s.procs.run(cmd, a);
  }

  /** This node's /health; a slow answer (a loaded machine) still counts, up to `timeoutMs`. */
  health(timeoutMs = 1000): Promise<HealthAnswer> {
    return getHealth(this.addr, this.healthPort, timeoutMs);
  }

  get guardPid(): number | undefined {
    const p = this.proc;
    return p && p.exitCode === null && p.signalCode === null ? p.pid : undefined;
  }

  /** Process group of the app, from the guard's pid file, if alive. */
  appPid(): number | undefined {
    const file = join(this.dir, `failover-guard-${this.s.cluster}-${this.name}.pid`);
    let pid: number;
    try {
      pid = Number(readFileSync(file, 'utf8'));
    } catch {
      return undefined; // no app, or the guard just removed the file
    }
    return pid > 0 && alive(pid) ? pid : undefined;
  }

  signalGuard(sig: NodeJS.Signals): void {
    const pid = this.guardPid;
    if (pid) killGroup(pid, sig);
  }

  /** The whole "server": guard and app group together. */
  signalNode(sig: NodeJS.Signals): void {
    const app = this.appPid();
    this.signalGuard(sig);
    if (app) killGroup(app, sig);
  }

  exited(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => p.once('exit', () => resolve()));
  }

  async kill(): Promise<void> {
    this.signalNode('SIGKILL');
    await this.exited();
  }

  /** The guard's pino log lines (JSON), parsed. */
  logLines(): { time: number; msg: string; [k: string]: unknown }[] {
    const file = join(this.dir, 'guard.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return undefined;
        }
      })
      .filter((x) => x !== undefined);
  }
}

/** One request as HAProxy logged it. */
export interface ServedRecord {
  /** Accept time (HAProxy's clock = ours), ms since the epoch. */
  readonly acceptedAt: number;
  readonly server: string;
  /** True when the backend answered (termination state `--`, bytes from the server). */
  readonly served: boolean;
}

/** Parses one of our HAProxy log lines (`fgd <accept s.ms> <server> <termination> <bytes>`). */
export function parseHaproxyLine(line: string): ServedRecord | { server: string; state: 'UP' | 'DOWN' } | undefined {
  const m = /fgd (\d+)\.(\d{3}) (\S+) (\S+) (\d+)/.exec(line);
  if (m) return { acceptedAt: Number(m[1]) * 1000 + Number(m[2]), server: m[3], served: m[4] === '--' && Number(m[5]) > 0 };
  const s = /Server \S+\/(\S+) is (UP|DOWN)/.exec(line);
  if (s) return { server: s[1], state: s[2] as 'UP' | 'DOWN' };
  return undefined;
}

export type Mode = 'tcp' | 'http';

/** HAProxy config: one frontend, one backend checking every guard's /health. */
export function haproxyConfig(p: { mode: Mode; frontPort: number; syslogPort: number; nodes: readonly { name: string; addr: string; appPort: number; healthPort: number }[] }): string {
  return [
    'global',
    `  log 127.0.0.1:${p.syslogPort} local0`,
    '  maxconn 2000',
    'defaults',
    `  mode ${p.mode}`,
    '  log global',
    // accept time, server, termination state, bytes from the server: enough to tell who served
    '  log-format "fgd %Ts.%ms %s %ts %B"',
    '  timeout connect 500ms',
    '  timeout client 5s',
    '  timeout server 5s',
    `  timeout check ${CHECK.timeoutSecs}s`,
    'frontend fe',
    `  bind 127.0.0.1:${p.frontPort}`,
    '  default_backend app',
    'backend app',
    `  option httpchk GET ${GUARD_HEALTH_PATH}`,
    '  http-check expect status 200',
    ...(p.mode === 'http' ? ['  http-response set-header X-Served-By %s'] : []),
    `  default-server inter ${CHECK.intervalSecs}s fall ${CHECK.unhealthyThreshold} rise ${CHECK.healthyThreshold}`,
    ...p.nodes.map((n) => `  server ${n.name} ${n.addr}:${n.appPort} check port ${n.healthPort}`),
    '',
  ].join('\n');
}

/** What HAProxy needs to know of a node (drill processes and booted nodes alike). */
export interface BackendNode {
  readonly name: string;
  readonly addr: string;
  readonly appPort: number;
  readonly healthPort: number;
}

/** HAProxy plus the syslog socket it logs every request (and server state change) to. */
export class Haproxy {
  readonly records: ServedRecord[] = [];
  onState?: (server: string, state: 'UP' | 'DOWN') => void;
  private sock?: dgram.Socket;
  private proc?: ChildProcess;
  frontPort = 0;

  constructor(private readonly procs: Procs, private readonly dir: string) {}

  async start(mode: Mode, nodes: readonly BackendNode[]): Promise<void> {
    const sock = dgram.createSocket('udp4');
    this.sock = sock;
    sock.on('message', (msg) => {
      const r = parseHaproxyLine(msg.toString());
      if (!r) return;
      if ('state' in r) this.onState?.(r.server, r.state);
      else this.records.push(r);
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    this.frontPort = await freePort();
    const cfg = join(this.dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig({ mode, frontPort: this.frontPort, syslogPort: sock.address().port, nodes }));
    execFileSync(HAPROXY, ['-c', '-q', '-f', cfg], { stdio: 'pipe' });
    this.proc = this.procs.spawn(HAPROXY, ['-db', '-f', cfg], { log: join(this.dir, 'haproxy.log') });
    for (let i = 0; i < 100; i++) {
      if (await connects(this.frontPort)) return;
      await sleep(50);
    }
    throw new Error(`haproxy did not listen on ${this.frontPort}; see ${join(this.dir, 'haproxy.log')}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p?.pid && p.exitCode === null) {
      killGroup(p.pid, 'SIGKILL');
      await new Promise((r) => p.once('exit', r));
    }
    this.sock?.close();
    this.sock = undefined;
  }
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
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
}

/** Problems with the machine (missing haproxy / ip / root): one line each. */
export function prerequisiteProblems(o: { partition?: boolean }): string[] {
  const p: string[] = [];
  if (!existsSync(HAPROXY)) p.push(`HAProxy is missing: ${HAPROXY} not found (Debian: apt-get install haproxy)`);
  if (o.partition) {
    if (!existsSync(IP)) p.push(`ip is missing: ${IP} not found (Debian: apt-get install iproute2); the partition fault needs it`);
    if (process.getuid?.() !== 0) p.push('the partition fault needs root (network namespaces)');
  }
  return p;
}

/** Timings for L: derived as the guard derives them, so the invariants hold. */
export function drillTimings(leaseSecs: number): GuardTimings {
  return deriveGuardTimings({ failOverIntervalSecs: leaseSecs });
}

/** The whole environment, started; `teardown` leaves nothing behind. */
export class DrillEnv {
  readonly procs = new Procs();
  readonly root: string;
  readonly cluster: string;
  readonly timings: GuardTimings;
  readonly mode: Mode;
  readonly nodes: DrillNode[] = [];
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
    if (this.opts.partition) {
      this.netns = new Netns(this.procs.runId);
      this.netns.create();
    }
    const bundle = bundleGuard(this.root);
    if (this.opts.databaseUrl) {
      if (!this.opts.passwordSource) throw new Error('--password-source is required with --database-url');
      this.db = { url: this.opts.databaseUrl, passwordSource: this.opts.passwordSource, destroy: async () => undefined };
      if (this.netns) throw new Error('the partition fault needs the embedded database (it listens on the veth address)');
    } else {
      this.db = await startEmbeddedPostgres(this.procs, this.root, this.netns ? { listen: this.netns.hostAddr, net: this.netns.net } : undefined);
    }
    const settings: NodeSettings = { timings: this.timings, cluster: this.cluster, bundle, root: this.root, db: this.db, procs: this.procs };
    const count = this.opts.nodes ?? 3;
    for (let i = 0; i < count; i++) {
      const inNs = this.netns && i === count - 1;
      this.nodes.push(new DrillNode(`n${i}`, await freePort(), await freePort(), settings, inNs ? this.netns : undefined));
    }
    const v = await this.nodes[0].cli('validate');
    if (v.code !== 0) throw new Error(`guard config invalid:\n${v.stderr}${v.stdout}`);
    this.nodes.forEach((n) => n.start());
    await this.haproxy.start(this.mode, this.nodes);
  }

  /** Kills everything we started, removes the namespace and the temp dir; returns leftover pids found by the final scan (should be none). */
  async teardown(): Promise<number[]> {
    if (this.torn) return [];
    this.torn = true;
    await this.haproxy.stop().catch(() => undefined);
    for (const n of this.nodes) n.signalNode('SIGKILL');
    await this.db?.destroy().catch(() => undefined);
    const left = await this.procs.killAll();
    this.netns?.destroy();
    // FAILOVER_DRILL_KEEP=1 keeps the guard logs and configs for a post-mortem
    if (process.env.FAILOVER_DRILL_KEEP === '1') rmSync(join(this.root, 'pg'), { recursive: true, force: true });
    else rmSync(this.root, { recursive: true, force: true });
    return left;
  }
}
