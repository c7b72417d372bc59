import { spawn } from 'child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { connect, createServer, type Server, type Socket } from 'net';
import { SERVICE_COMMAND_TIMEOUT_MS } from '../../../contracts/timing';
import type { Log } from '../../log';
import { alive } from '../../app/exec-supervisor';
import { runCommand, type RunCommand } from '../../app/run-command';
import { windowsServiceControl } from './windows-service-control';
import { mayRun, type ServiceControl } from '../../app/service-supervisor';
import { throwIfAborted, type ExitListener, type Supervisor } from '../../app/supervisor';
import { setServiceEnvironment } from './windows-service-env';

/** What the guard writes to its watcher when it stopped the app itself. */
export const DISMISS = 'released\n';

/** What the watcher writes to the guard right before it kills the app: the valid-until passed. */
export const EXPIRED = 'expired\n';

/**
 * Milliseconds on the machine-wide monotonic clock (libuv's hrtime: QueryPerformanceCounter on
 * Windows, CLOCK_MONOTONIC elsewhere), the same in the guard and its watcher: the valid-until
 * instants cross the pipe in it. `performance.now()` counts from each process's own start.
 */
export const machineMonotonicMs = (): number => Number(process.hrtime.bigint() / 1000000n);

/** The line that tells the watcher until when the lease covers the app: `until <machine ms>`. */
export const untilLine = (machineMs: number): string => `until ${Math.floor(machineMs)}\n`;

/** Kills the service's process and every process it started (`taskkill /F /T`): a fence, never graceful. */
export function serviceTreeKiller(service: string, run: RunCommand = runCommand, timeoutMs = SERVICE_COMMAND_TIMEOUT_MS): () => Promise<void> {
  return async () => {
    const r = await run(['taskkill.exe', '/F', '/T', '/FI', `SERVICES eq ${service}`], { timeoutMs });
    // 128: no such process (already gone); the state query decides
    if (r.code !== 0 && r.code !== 128) throw new Error(`taskkill /F /T ${service} failed (exit ${r.code})`);
  };
}

/** The local socket a watcher connects to: a named pipe on Windows, a Unix socket elsewhere. */
export const watchSocketPath = (markerFile: string): string =>
  process.platform === 'win32' ? `\\\\.\\pipe\\${markerFile.replace(/[\\/:]/g, '-')}` : `${markerFile}.sock`;

/** How to run this guard again (`failover-guard.exe`, or node + the script for the npm bin). */
export function selfCommand(): string[] {
  let sea = false;
  try {
    sea = (require('node:sea') as { isSea(): boolean }).isSea();
  } catch {
    // an older Node without node:sea
  }
  return sea ? [process.execPath] : [process.execPath, process.argv[1]];
}

export interface WindowsServiceWatchProps {
  /** The app's Windows service name. */
  readonly service: string;
  readonly stopTimeoutSecs: number;
  /** File that exists while a watcher runs (holds its pid). */
  readonly markerFile: string;
  readonly log: Log;
  /** @default this guard's own command line */
  readonly command?: readonly string[];
  /** @default reg.exe / sc.exe through runCommand */
  readonly run?: RunCommand;
}

/**
 * `windows-service` mode around the plain service supervisor:
 * - the term reaches the app: the service's `Environment` registry value is set before each start;
 * - the app cannot outlive the guard's lease: the SCM does not stop a service when another one
 *   dies, so each start launches a watcher (`failover-guard watch-service`) connected to a local
 *   socket of the guard (named pipe). After each renew the guard sends the instant its lease
 *   stops covering the app (`until …`, see {@link leaseValidFor}); the watcher kills the app's
 *   process tree (`taskkill /F /T`) at that instant — a suspended or hung guard sends no later
 *   one — and at once when the guard ends without dismissing it (crash, kill, hang killed by the
 *   service host: the OS closes the connection). The watcher re-launches itself detached, so it
 *   is no child of the guard that the service host would kill together with it;
 * - a starting guard waits for a watcher still stopping the app of its previous run.
 */
export class WindowsServiceWatch implements Supervisor {
  private server?: Server;
  private watcher?: Socket;
  /** Machine-monotonic ms until which the lease covers the app (see {@link machineMonotonicMs}). */
  private validUntil?: number;
  /** The watcher said it kills the app (the valid-until passed): the app's next end is the fence. */
  private expired = false;

  constructor(
    private readonly inner: Supervisor,
    private readonly props: WindowsServiceWatchProps,
  ) {}

  onExit(listener: ExitListener): void {
    this.inner.onExit((detail, byBackstop) => {
      const byWatcher = this.expired;
      this.expired = false;
      listener(byWatcher ? `${detail}: killed by the app watcher (valid-until passed)` : detail, byBackstop || byWatcher);
    });
  }

  ready(): Promise<boolean> {
    return this.inner.ready();
  }

  async cleanup(): Promise<void> {
    const deadline = Date.now() + (this.props.stopTimeoutSecs + 10) * 1000;
    for (;;) {
      let pid = 0;
      try {
        pid = Number(readFileSync(this.props.markerFile, 'utf8').trim());
      } catch {
        break;
      }
      if (!(pid > 0 && alive(pid)) || Date.now() > deadline) break;
      this.props.log.info({ pid }, 'waiting for the watcher of the previous guard run to stop the app');
      await new Promise((r) => setTimeout(r, 500));
    }
    rmSync(this.props.markerFile, { force: true });
    await this.inner.cleanup();
  }

  /** Starts a watcher and waits until it is connected: the app never runs unwatched. */
  private async arm(): Promise<void> {
    const path = watchSocketPath(this.props.markerFile);
    if (process.platform !== 'win32') rmSync(path, { force: true });
    const server = createServer();
    this.server = server;
    const connected = new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the app watcher did not connect within 30 s')), 30000);
      server.once('connection', (socket) => {
        clearTimeout(timer);
        resolve(socket);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    const [file, ...args] = this.props.command ?? selfCommand();
    const child = spawn(file, [...args, 'watch-service', '--service', this.props.service, '--stop-timeout-secs', String(this.props.stopTimeoutSecs), '--marker', this.props.markerFile, '--socket', path], {
      detached: true,
      stdio: 'ignore',
      windowsHide: true,
    });
    child.on('error', (e) => this.props.log.error({ err: String(e) }, 'could not start the app watcher'));
    child.unref();
    const socket = await connected;
    socket.on('error', () => undefined);
    this.expired = false;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      if (d.includes(EXPIRED)) this.expired = true;
    });
    // a watcher that fenced (valid-until passed) ends: the next start arms a new one
    socket.once('close', () => {
      if (this.watcher === socket) this.watcher = undefined;
    });
    this.watcher = socket;
    if (this.validUntil !== undefined) socket.write(untilLine(this.validUntil));
  }

  /**
   * The lease covers the app for `ms` more (the guard's own fence instant: renew send + renew
   * deadline, less the time since): the watcher kills the app then unless a later instant comes.
   */
  leaseValidFor(ms: number): void {
    this.validUntil = machineMonotonicMs() + Math.max(0, ms);
    this.watcher?.write(untilLine(this.validUntil));
  }

  /**
   * The elector's outside backstop, after each acquire and successful renew: the instant (the
   * guard's monotonic clock, as performance.now()) it fences at. The watcher gets it on the
   * machine-wide clock; the inner supervisor too.
   */
  setValidUntil(instant: number): void {
    this.leaseValidFor(instant - performance.now());
    this.inner.setValidUntil?.(instant);
  }

  async start(env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    await setServiceEnvironment(this.props.service, env, this.props.run);
    throwIfAborted(signal);
    if (!this.watcher) await this.arm();
    await this.inner.start(env, signal);
  }

  async stop(deadline: number): Promise<void> {
    await this.inner.stop(deadline);
    await this.dismiss();
  }

  /** The fence: the inner supervisor's kill, then the watcher stands down. */
  async kill(deadline: number): Promise<void> {
    await this.inner.kill(deadline);
    await this.dismiss();
  }

  /** Tells the watcher the app is stopped by the guard itself: it ends without acting. */
  private async dismiss(): Promise<void> {
    const w = this.watcher;
    const server = this.server;
    this.watcher = undefined;
    this.server = undefined;
    if (w) await new Promise<void>((resolve) => w.end(DISMISS, () => resolve()));
    server?.close();
  }
}

/**
 * The watcher itself (`failover-guard watch-service`). First run: re-launches itself detached
 * (so it is no child of the guard that the service host kills with it) and exits. Second run
 * (`--stage 2`): writes the marker, connects to the guard's socket and follows its `until`
 * instants; unless the guard dismissed it first, kills the app's process tree when the last
 * instant passes or the connection closes.
 */
export async function watchService(
  opts: { service: string; stopTimeoutSecs: number; marker: string; socket: string; stage: number },
  control: ServiceControl = windowsServiceControl(opts.service),
): Promise<number> {
  if (opts.stage < 2) {
    const [file, ...args] = selfCommand();
    const child = spawn(
      file,
      [...args, 'watch-service', '--service', opts.service, '--stop-timeout-secs', String(opts.stopTimeoutSecs), '--marker', opts.marker, '--socket', opts.socket, '--stage', '2'],
      { detached: true, stdio: 'ignore', windowsHide: true },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    return 0;
  }
  writeFileSync(opts.marker, `${process.pid}\n`);
  try {
    const outcome = await watchGuard(connect(opts.socket));
    if (outcome !== 'released') await killServiceTree(control, serviceTreeKiller(opts.service), opts.stopTimeoutSecs * 1000);
  } finally {
    if (existsSync(opts.marker) && readFileSync(opts.marker, 'utf8').trim() === String(process.pid)) rmSync(opts.marker, { force: true });
  }
  return 0;
}

/**
 * Reads the guard's lines until the guard dismisses the watcher (`released`), the connection
 * closes, or the last `until` instant passes; each `until` replaces the one before.
 */
export function watchGuard(socket: Socket, now: () => number = machineMonotonicMs): Promise<'released' | 'closed' | 'expired'> {
  return new Promise((resolve) => {
    let input = '';
    let timer: NodeJS.Timeout | undefined;
    const end = (outcome: 'released' | 'closed' | 'expired') => {
      clearTimeout(timer);
      // the guard learns the kill that follows is the fence, not the app failing
      if (outcome === 'expired') socket.end(EXPIRED);
      else socket.destroy();
      resolve(outcome);
    };
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      input += d;
      for (let nl = input.indexOf('\n'); nl >= 0; nl = input.indexOf('\n')) {
        const line = input.slice(0, nl).trim();
        input = input.slice(nl + 1);
        if (`${line}\n` === DISMISS) return end('released');
        const until = /^until (\d+)$/.exec(line);
        if (until) {
          clearTimeout(timer);
          timer = setTimeout(() => end('expired'), Math.max(0, Number(until[1]) - now()));
        }
      }
    });
    socket.once('close', () => end('closed'));
    socket.once('error', () => end('closed'));
  });
}

/**
 * The fence from outside the guard: kill the app's process tree at once, again every 250 ms
 * until the service is known to be gone or `confirmMs` has passed. A failing kill is retried,
 * never a reason to stop trying. True when confirmed gone.
 */
export async function killServiceTree(
  control: Pick<ServiceControl, 'state'>,
  killTree: () => Promise<void>,
  confirmMs: number,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<boolean> {
  const deadline = performance.now() + confirmMs;
  for (;;) {
    try {
      await killTree();
    } catch {
      // retried below; the state decides
    }
    if (!mayRun(await control.state())) return true;
    if (performance.now() >= deadline) return false;
    await sleep(250);
  }
}
