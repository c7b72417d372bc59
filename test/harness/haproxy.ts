/**
 * HAProxy (Debian's `haproxy`) in front of guard nodes: one frontend, one backend checking every
 * guard's /health, every request and server state change logged to a syslog socket we read.
 */
import * as dgram from 'dgram';
import { type ChildProcess, execFileSync } from 'child_process';
import { existsSync, writeFileSync } from 'fs';
import { join } from 'path';
import { GUARD_HEALTH_PATH } from '../../lib/contracts/guard-endpoints';
import { accepts, freePort } from './ports';
import { killGroup, type Procs } from './processes';
import { sleep } from './wait';

export const HAPROXY = '/usr/sbin/haproxy';

/** HAProxy health-check timings the drill and the booted nodes use (inter 1s fall 2 rise 1, timeout check 1s). */
export const CHECK = { intervalSecs: 1, timeoutSecs: 1, healthyThreshold: 1, unhealthyThreshold: 2 } as const;

export type Mode = 'tcp' | 'http';

/** The missing-HAProxy problem, as one line (none when it is installed). */
export function haproxyProblems(): string[] {
  return existsSync(HAPROXY) ? [] : [`HAProxy is missing: ${HAPROXY} not found (Debian: apt-get install haproxy)`];
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

/** What HAProxy needs to know of a node (guard processes and booted nodes alike). */
export interface BackendNode {
  readonly name: string;
  readonly addr: string;
  readonly appPort: number;
  readonly healthPort: number;
}

/** HAProxy config: one frontend, one backend checking every guard's /health. */
export function haproxyConfig(p: { mode: Mode; frontPort: number; syslogPort: number; nodes: readonly BackendNode[] }): string {
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

/** HAProxy plus the syslog socket it logs every request (and server state change) to. */
export class Haproxy {
  readonly records: ServedRecord[] = [];
  onState?: (server: string, state: 'UP' | 'DOWN') => void;
  private sock?: dgram.Socket;
  private proc?: ChildProcess;
  frontPort = 0;

  constructor(
    private readonly procs: Procs,
    private readonly dir: string,
  ) {}

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
      if (await accepts(this.frontPort)) return;
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
