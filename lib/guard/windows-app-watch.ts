import { spawn } from 'child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { connect, createServer, type Server, type Socket } from 'net';
import type { Log } from './log';
import { alive } from './exec-supervisor';
import { mayRun, windowsServiceControl, type RunCommand, type ServiceControl } from './service-supervisor';
import { throwIfAborted, type Supervisor } from './supervisor';
import { setServiceEnvironment } from './windows-service-env';

/** What the guard writes to its watcher when it stopped the app itself. */
export const DISMISS = 'released\n';

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
 * - the app cannot outlive the guard: the SCM does not stop a service when another one dies, so
 *   each start launches a watcher (`failover-guard watch-service`) connected to a local socket
 *   of the guard (named pipe). When the guard ends without dismissing it (crash, kill, hang
 *   killed by the service host), the OS closes the connection and the watcher stops the app
 *   service (forcefully after the stop timeout). The watcher re-launches itself detached, so it
 *   is no child of the guard that the service host would kill together with it;
 * - a starting guard waits for a watcher still stopping the app of its previous run.
 */
export class WindowsServiceWatch implements Supervisor {
  private server?: Server;
  private watcher?: Socket;

  constructor(
    private readonly inner: Supervisor,
    private readonly props: WindowsServiceWatchProps,
  ) {}

  onExit(listener: (detail: string) => void): void {
    this.inner.onExit(listener);
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
    this.watcher = socket;
  }

  async start(env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    await setServiceEnvironment(this.props.service, env, this.props.run);
    throwIfAborted(signal);
    if (!this.watcher) await this.arm();
    await this.inner.start(env, signal);
  }

  setValidUntil(instant: number): void {
    this.inner.setValidUntil?.(instant);
  }

  async stop(deadline: number): Promise<void> {
    await this.inner.stop(deadline);
    await this.dismiss();
  }

  async kill(deadline: number): Promise<void> {
    await this.inner.kill(deadline);
    await this.dismiss();
  }

  /** The app is confirmed gone: the watcher has nothing left to do. */
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
 * (`--stage 2`): writes the marker, connects to the guard's socket and waits for it to close;
 * unless the guard dismissed it first, stops the app service.
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
  let input = '';
  await new Promise<void>((resolve) => {
    const socket = connect(opts.socket);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (input += d));
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
  });
  try {
    if (!input.includes(DISMISS)) await stopServiceFully(control, opts.stopTimeoutSecs);
  } finally {
    if (existsSync(opts.marker) && readFileSync(opts.marker, 'utf8').trim() === String(process.pid)) rmSync(opts.marker, { force: true });
  }
  return 0;
}

/** Stop, wait up to the stop timeout, then kill: the app is gone when this returns (or the kill failed loudly). */
export async function stopServiceFully(control: ServiceControl, stopTimeoutSecs: number, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
  await control.stop();
  const deadline = performance.now() + stopTimeoutSecs * 1000;
  while (mayRun(await control.state()) && performance.now() < deadline) await sleep(250);
  if (mayRun(await control.state())) await control.kill();
}
