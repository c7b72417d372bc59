/**
 * Booted nodes for tests and `npm run soak:nodes`: each node is a real systemd 252 booted with
 * `systemd-nspawn --volatile=yes --directory=/ --boot` (the host's /usr read-only, a tmpfs root,
 * `/usr/local` a tmpfs for the guard binary), in its own network namespace on a bridge. The
 * rendered Linux boot script runs inside as cloud-init would (a oneshot unit at boot), installs
 * the guard (systemd mode) and its units; the app is a systemd unit (demo-app.js). The
 * share is a host temp directory bind-mounted at /fg. PostgreSQL (embedded binaries) listens on
 * the bridge address, HAProxy on the host checks each node's /health. Every name carries the
 * `fc12b` tag (after FAILOVER_NET_TAG); `teardown` removes every container, namespace, link and temp dir, also after a failure.
 */
import { type ChildProcess } from 'child_process';
import { AWS_NODE_PLATFORM, awsGuardBinary } from '../../lib/aws/aws-node-platform';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'fs';
import { createHash } from 'crypto';
import { tmpdir } from 'os';
import { join } from 'path';
import { gzipSync } from 'zlib';
import { renderLinuxBootScript } from '../../lib/boot';
import { custom, DEFAULT_GUARD_PORT, parseClusterSpec, type ClusterSpec } from '../../lib/spec';
import { GUARD_HEALTH_PATH } from '../../lib/contracts/guard-endpoints';
import { bundleGuard } from './guard-bundle';
import { DEMO_APP, parseLogLines } from './guard-cluster';
import { probeApp, type AppAnswer } from '../../scripts/drill/observe';
import { CHECK, Haproxy, haproxyProblems } from './haproxy';
import { httpGet, type HealthAnswer } from './health';
import { Bridge, freeBlock, ip, linkName, Netns, netName, netnsProblems } from './netns';
import { NodeCgroup } from './node-cgroup';
import { startPostgres, type TestPostgres } from './postgres';
import { Procs } from './processes';
import { sleep } from './wait';

export const NSPAWN = '/usr/bin/systemd-nspawn';
export const NSENTER = '/usr/bin/nsenter';
/** systemd-nspawn options every booted node has: the host's root, volatile; booted; no machined on the host. */
export const NSPAWN_NODE_ARGS = ['--volatile=yes', '--directory=/', '--boot', '--tmpfs=/usr/local', '--register=no', '--keep-unit', '--console=pipe', '--quiet'];
/** Tag on every container, namespace, bridge and link we create (after `FAILOVER_NET_TAG`, see netns.ts). */
export const TAG = 'fc12b';
export const APP_UNIT = 'fc-demo.service';
export const GUARD_UNIT = 'failover-guard.service';
export const APP_PORT = 8080;
export const HEALTH_PORT = DEFAULT_GUARD_PORT;
/** Target the nodes boot into: basic.target plus the boot script (no getty, no presets' services). */
const NODE_TARGET = 'fc-node.target';

/** Problems with the machine (one line each): root, systemd-nspawn, nsenter, ip, HAProxy. */
export function nodePrerequisiteProblems(): string[] {
  const p = netnsProblems('booted nodes (with systemd-nspawn)');
  if (!existsSync(NSPAWN)) p.push(`${NSPAWN} is missing (Debian: apt-get install systemd-container)`);
  if (!existsSync(NSENTER)) p.push(`${NSENTER} is missing (Debian: apt-get install util-linux)`);
  return [...p, ...haproxyProblems()];
}

/** The planned-stop bound S the booted nodes use at most: a handover (and a stall in the middle of one) takes seconds. */
const NODE_MAX_STOP_SECS = 3;

/** The cluster spec the nodes boot with: the demo app as a custom profile, HAProxy's check timings; S at most 3 s. */
export function nodeSpec(leaseSecs: number): ClusterSpec {
  const spec = nodeSpecWith(leaseSecs);
  return spec.guard.stopTimeoutSecs > NODE_MAX_STOP_SECS ? nodeSpecWith(leaseSecs, NODE_MAX_STOP_SECS) : spec;
}

function nodeSpecWith(leaseSecs: number, stopTimeoutSecs?: number): ClusterSpec {
  return parseClusterSpec({
    name: 'fc12b-nodes',
    profile: custom({
      displayName: 'demo app',
      os: 'linux',
      ports: [{ name: 'http', port: APP_PORT }],
      installDir: '/opt/demo',
      serviceName: APP_UNIT,
      readiness: { kind: 'http', url: `http://127.0.0.1:${APP_PORT}/` },
    }),
    // a long startup timeout: an app crash must be noticed by the guard, not by this timeout
    guard: { failOverIntervalSecs: leaseSecs, startupTimeoutSecs: 60, port: HEALTH_PORT, ...(stopTimeoutSecs ? { stopTimeoutSecs } : {}) },
    // the spec wants T < I; HAProxy checks with inter 1s, timeout 1s
    healthCheck: { intervalSecs: CHECK.intervalSecs, timeoutSecs: 0.9, healthyThreshold: CHECK.healthyThreshold, unhealthyThreshold: CHECK.unhealthyThreshold },
  });
}

const NODE_TARGET_TEXT = `[Unit]
Description=booted test node: basic system plus the boot script
Requires=basic.target
After=basic.target
Wants=fc-boot.service
AllowIsolate=yes
`;

/** Runs the rendered boot script as cloud-init's user-data step would: as root, once per boot, after the network. */
const BOOT_UNIT = `[Unit]
Description=the rendered boot script (cloud-init user data stand-in)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
# the aws shim stands in for the CLI: it "downloads" the guard from the share
Environment=PATH=/fg/shims:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ExecStart=/bin/sh -c 'exec /bin/bash /fg/boot.sh >>/fg/logs/%H-boot.log 2>&1'
`;

/** The guard's and the app's output go to the share, where the host reads them (`file`: `%H`, the host name, or a fixed name for a clone). */
const guardLogDropIn = (file = '%H') => `[Service]
StandardOutput=append:/fg/logs/${file}-guard.log
StandardError=append:/fg/logs/${file}-guard.log
`;

/** The app unit; `stopMs`: it serves on that long after SIGTERM (the demo app's DEMO_STOP_MS). */
const appUnitText = (stopMs: number) => `[Unit]
Description=demo app (stands in for the vendor's app server)

[Service]
Type=simple
Environment=PORT=${APP_PORT} BIND=0.0.0.0 DEMO_STOP_MS=${stopMs}
ExecStart=/usr/bin/node /fg/demo-app.js
StandardOutput=append:/fg/logs/%H-app.log
StandardError=append:/fg/logs/%H-app.log
`;

/** `aws s3 cp … SRC DEST`: copies the guard, gzip-compressed as the clusters upload it, from the share to DEST (the last argument). */
const AWS_SHIM = `#!/bin/sh
for arg in "$@"; do dest=$arg; done
cp /fg/guard-binary.gz "$dest"
`;

/** The "guard binary": the esbuild bundle run by the host's node (mounted read-only in every node). */
const GUARD_BINARY = `#!/bin/sh
exec /usr/bin/node /fg/failover-guard.js "$@"
`;

export interface BootedClusterOptions {
  /** @default 3 */
  readonly nodes?: number;
  /** L in seconds. @default 10 */
  readonly leaseSecs?: number;
  /** How long the app serves on after SIGTERM (a slow graceful stop). @default 0 */
  readonly appStopMs?: number;
  /** A spare node, not booted, for the duplicate-node-id fault (sampled and behind HAProxy like the others). @default false */
  readonly spare?: boolean;
}

/** One booted node. */
export class BootedNode {
  nspawn?: ChildProcess;
  private exitedP?: Promise<void>;

  /** Its own cgroup tree, as a machine has (see node-cgroup.ts): nodes never share a unit's cgroup. */
  readonly cgroup: NodeCgroup;

  constructor(
    readonly name: string,
    readonly netns: Netns,
    private readonly c: BootedCluster,
  ) {
    this.cgroup = new NodeCgroup(this.machine);
  }

  get addr(): string {
    return this.netns.nsAddr;
  }

  readonly appPort = APP_PORT;
  readonly healthPort = HEALTH_PORT;

  get machine(): string {
    return netName(`${TAG}-${this.c.runId}-${this.name}`);
  }

  /** Its app asked directly (not through HAProxy). */
  app(): Promise<AppAnswer> {
    return probeApp(this.addr, APP_PORT);
  }

  /**
   * Boots the node (returns once systemd-nspawn runs; see {@link waitGuardServing}). `cloneOf`:
   * boots with that node's host name — the guard's default node id — as a cloned image would
   * (its guard log keeps this node's name).
   */
  boot(cloneOf?: string): void {
    const s = this.c.share;
    const bindRo = (file: string, at: string) => `--bind-ro=${join(s, 'units', file)}:${at}`;
    const args = [
      ...NSPAWN_NODE_ARGS,
      `--machine=${this.machine}`,
      `--hostname=${cloneOf ?? this.name}`,
      `--network-namespace-path=/run/netns/${this.netns.name}`,
      `--bind=${s}:/fg`,
      bindRo(NODE_TARGET, `/etc/systemd/system/${NODE_TARGET}`),
      bindRo('fc-boot.service', '/etc/systemd/system/fc-boot.service'),
      bindRo(APP_UNIT, `/etc/systemd/system/${APP_UNIT}`),
      bindRo(cloneOf ? `guard-log-${this.name}.conf` : 'guard-log.conf', `/etc/systemd/system/${GUARD_UNIT}.d/fc-log.conf`),
      `systemd.unit=${NODE_TARGET}`,
    ];
    const run = this.cgroup.wrap(NSPAWN, args);
    const p = this.c.procs.spawn(run.cmd, run.args, { log: join(s, 'logs', `${this.name}-console.log`) });
    this.nspawn = p;
    this.exitedP = new Promise((resolve) => p.once('exit', () => resolve()));
  }

  get running(): boolean {
    const p = this.nspawn;
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  /** Resolves when systemd-nspawn has exited (power-off, reboot, teardown). */
  exited(): Promise<void> {
    return this.running ? this.exitedP! : Promise.resolve();
  }

  /** The node's PID 1 (systemd), the child of systemd-nspawn. */
  pid1(): number | undefined {
    const pid = this.nspawn?.pid;
    if (!pid || !this.running) return undefined;
    try {
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      return kids.length ? Number(kids[0]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Runs a command inside the node (its mount, pid, network, uts and ipc namespaces). */
  async exec(cmd: string[], timeoutMs = 20000): Promise<{ code: number; stdout: string; stderr: string }> {
    const pid = this.pid1();
    if (!pid) return { code: -1, stdout: '', stderr: `${this.name} is not running` };
    return this.c.procs.run(NSENTER, ['-t', String(pid), '-m', '-p', '-n', '-u', '-i', '--', ...cmd], timeoutMs);
  }

  systemctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return this.exec(['/bin/systemctl', ...args]);
  }

  /** `systemctl show -p PROP --value UNIT`. */
  async show(unit: string, prop: string): Promise<string> {
    return (await this.systemctl('show', '-p', prop, '--value', unit)).stdout.trim();
  }

  /** `active`, `inactive`, `activating`, `deactivating`, `failed` (or '' when the node is down). */
  async state(unit: string): Promise<string> {
    return (await this.systemctl('is-active', unit)).stdout.trim();
  }

  async mainPid(unit: string): Promise<number> {
    return Number(await this.show(unit, 'MainPID')) || 0;
  }

  /**
   * CLOCK_MONOTONIC (µs, shared with the host) of the first journal entry after `sinceUs` saying
   * `unit` ended (deactivated, failed or stopped).
   */
  async unitInactiveAt(unit: string, sinceUs: number): Promise<number | undefined> {
    const r = await this.exec(['/bin/journalctl', '--no-pager', '-o', 'json', '-u', unit, '-n', '200']);
    for (const line of r.stdout.split('\n')) {
      let e: { MESSAGE?: unknown; __MONOTONIC_TIMESTAMP?: string };
      try {
        e = JSON.parse(line);
      } catch {
        continue;
      }
      const t = Number(e.__MONOTONIC_TIMESTAMP);
      if (t > sinceUs && typeof e.MESSAGE === 'string' && /Deactivated successfully|Failed with result|^Stopped /.test(e.MESSAGE)) return t;
    }
    return undefined;
  }

  health(timeoutMs = 1000): Promise<HealthAnswer> {
    return httpGet(HEALTH_PORT, GUARD_HEALTH_PATH, timeoutMs, this.addr);
  }

  /** Until the guard answers /health (any role): the boot script ran and the guard serves. */
  async waitGuardServing(timeoutMs = 90000): Promise<void> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if ((await this.health()).code !== 0) return;
      if (!this.running) throw new Error(`${this.name}: systemd-nspawn exited while booting; see ${join(this.c.share, 'logs')}`);
      await sleep(250);
    }
    throw new Error(`${this.name}: the guard did not answer /health within ${timeoutMs} ms; see ${join(this.c.share, 'logs')}`);
  }

  /**
   * Hard power-off: SIGKILL to the node's PID 1 ends every process of its PID namespace at once
   * (SIGKILL to systemd-nspawn alone would leave the node running, reparented).
   */
  async powerOff(): Promise<void> {
    const pid1 = this.pid1();
    if (pid1) process.kill(pid1, 'SIGKILL');
    const t0 = Date.now();
    while (this.running && Date.now() - t0 < 5000) await sleep(20);
    if (this.running) process.kill(this.nspawn!.pid!, 'SIGKILL');
    await this.exited();
    for (let i = 0; pid1 && i < 100 && existsSync(`/proc/${pid1}`); i++) await sleep(50);
  }

  /** Cuts the node's link: packets are dropped silently, as in a real partition. */
  cut(): void {
    this.netns.cut();
  }

  heal(): void {
    this.netns.heal();
  }

  /** The guard's pino lines (JSON) from its log on the share. */
  guardLog(): { time: number; msg: string; [k: string]: unknown }[] {
    const file = join(this.c.share, 'logs', `${this.name}-guard.log`);
    return existsSync(file) ? parseLogLines(readFileSync(file, 'utf8')) : [];
  }
}

/** The whole booted environment: bridge, namespaces, PostgreSQL, nodes, HAProxy. */
export class BootedCluster {
  readonly procs = new Procs();
  readonly runId = this.procs.runId.slice(0, 5);
  readonly root: string;
  readonly share: string;
  readonly spec: ClusterSpec;
  readonly nodes: BootedNode[] = [];
  /** The spare node (see {@link BootedClusterOptions.spare}): booted as a clone of another by the duplicate-node-id fault. */
  spare?: BootedNode;
  readonly haproxy: Haproxy;
  db?: TestPostgres;
  private bridgeNet?: Bridge;
  private subnet = '';
  private torn = false;

  constructor(readonly opts: BootedClusterOptions = {}) {
    // the spec first: a bad lease time throws before anything is created
    this.spec = nodeSpec(opts.leaseSecs ?? 10);
    this.root = mkdtempSync(join(tmpdir(), `${TAG}-nodes-`));
    this.share = join(this.root, 'share');
    mkdirSync(join(this.share, 'logs'), { recursive: true });
    mkdirSync(join(this.share, 'units'));
    mkdirSync(join(this.share, 'shims'));
    this.haproxy = new Haproxy(this.procs, this.root);
  }

  /** The bridge's name (known once started). */
  get bridge(): string {
    return this.bridgeNet?.name ?? '';
  }

  get timings(): ClusterSpec['guard'] {
    return this.spec.guard;
  }

  async start(): Promise<void> {
    const problems = nodePrerequisiteProblems();
    if (problems.length) throw new Error(problems.join('\n'));
    this.network();
    this.db = await startPostgres({ procs: this.procs, extraListen: { address: this.bridgeNet!.addr, net: this.subnet } });
    this.writeShare();
    this.nodes.forEach((n) => n.boot());
    await Promise.all(this.nodes.map((n) => n.waitGuardServing()));
    await this.haproxy.start('tcp', this.observed);
  }

  /** Every node the observers watch: the cluster's and the spare. */
  get observed(): BootedNode[] {
    return this.spare ? [...this.nodes, this.spare] : this.nodes;
  }

  /** A bridge on a free 10.212.k.0/24, one namespace per node with a veth into it. */
  private network(): void {
    const k = freeBlock('10.212');
    this.subnet = `10.212.${k}.0/24`;
    this.bridgeNet = new Bridge(linkName(`${TAG}-${this.runId}`), `10.212.${k}.1`, 24);
    this.bridgeNet.create();
    const count = this.opts.nodes ?? 3;
    for (let i = 0; i < count + (this.opts.spare ? 1 : 0); i++) {
      const id = `${TAG}${this.runId}`;
      const netns = new Netns(netName(`${TAG}-${this.runId}-n${i}`), linkName(`${id}h${i}`), linkName(`${id}p${i}`), `10.212.${k}.${10 + i}`, 24, { bridge: this.bridgeNet.name });
      if (i < count) this.nodes.push(new BootedNode(`n${i}`, netns, this));
      else this.spare = new BootedNode('dup', netns, this);
      netns.create();
    }
  }

  /** Everything the nodes read from /fg: the guard, the app, the boot script, units and shims. */
  private writeShare(): void {
    const s = this.share;
    bundleGuard(s);
    writeFileSync(join(s, 'guard-binary.gz'), gzipSync(GUARD_BINARY));
    copyFileSync(DEMO_APP, join(s, 'demo-app.js'));
    copyFileSync(this.db!.passwordFile, join(s, 'db-password'));
    chmodSync(join(s, 'db-password'), 0o600);
    // the nodes see the share, not the harness's temp dir: the database's private CA goes there too
    copyFileSync(this.db!.caFile!, join(s, 'db-ca.pem'));
    writeFileSync(join(s, 'shims', 'aws'), AWS_SHIM, { mode: 0o755 });
    const sha256 = createHash('sha256').update(GUARD_BINARY).digest('hex');
    const script = renderLinuxBootScript(this.spec, {
      share: { kind: 'nfs', address: 'unused:/share' },
      mode: 'guard', platform: AWS_NODE_PLATFORM, guardBinary: awsGuardBinary({ bucket: 'fc12b-guard', key: 'failover-guard-linux-x64', region: 'eu-west-1', sha256 }),
      database: { url: this.db!.masterUrl({ host: this.bridgeNet!.addr, caFile: '/fg/db-ca.pem' }), passwordSource: 'file:/fg/db-password' },
    });
    writeFileSync(join(s, 'boot.sh'), script, { mode: 0o755 });
    const units: Record<string, string> = {
      [NODE_TARGET]: NODE_TARGET_TEXT,
      'fc-boot.service': BOOT_UNIT,
      [APP_UNIT]: appUnitText(this.opts.appStopMs ?? 0),
      'guard-log.conf': guardLogDropIn(),
      ...(this.spare ? { [`guard-log-${this.spare.name}.conf`]: guardLogDropIn(this.spare.name) } : {}),
    };
    for (const [name, text] of Object.entries(units)) writeFileSync(join(s, 'units', name), text);
  }

  /** Kills every node and process we started, removes namespaces, links, the bridge and the temp dir; returns what survived (should be nothing). */
  async teardown(): Promise<string[]> {
    if (this.torn) return [];
    this.torn = true;
    const left: string[] = [];
    await this.haproxy.stop().catch(() => undefined);
    const pid1s = this.observed.map((n) => n.pid1()).filter((p): p is number => p !== undefined);
    await Promise.all(this.observed.map((n) => n.powerOff().catch(() => undefined)));
    await this.db?.close().catch(() => undefined);
    const pids = await this.procs.killAll();
    left.push(...pids.map((p) => `pid ${p}`));
    for (const p of pid1s) {
      for (let i = 0; i < 50 && existsSync(`/proc/${p}`); i++) await sleep(100);
      if (existsSync(`/proc/${p}`)) left.push(`node PID 1 ${p}`);
    }
    for (const n of this.observed) left.push(...n.netns.destroy(), ...n.cgroup.remove());
    if (this.bridgeNet) left.push(...this.bridgeNet.destroy());
    // a namespace's links go away shortly after it
    const prefix = netName(`${TAG}${this.runId}`);
    let links = '';
    for (let i = 0; i < 50; i++) {
      links = ip('-o', 'link');
      if (!links.includes(prefix)) break;
      await sleep(100);
    }
    if (links.includes(prefix)) left.push(`links named ${prefix}*`);
    // FAILOVER_NODES_KEEP=1 keeps the share (logs, boot script) for a post-mortem
    if (process.env.FAILOVER_NODES_KEEP !== '1') rmSync(this.root, { recursive: true, force: true });
    return left;
  }
}
