import { spawn } from 'child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import type { Log } from './elector';
import { windowsServiceControl, type RunCommand, type ServiceControl } from './service-supervisor';
import type { Supervisor } from './supervisor';
import { setServiceEnvironment } from './windows-service-env';

/** What the guard writes to its watcher when it stopped the app itself. */
export const DISMISS = 'released\n';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `windows-service` mode around the plain service supervisor:
 * - the term reaches the app: the service's `Environment` registry value is set before each start;
 * - the app cannot outlive the guard: the SCM does not stop a service when another one dies, so
 *   each start launches a watcher (`failover-guard watch-service`) holding a pipe from the guard.
 *   When the guard ends without dismissing it (crash, kill, hang killed by the service host), the
 *   pipe closes and the watcher stops the app service (forcefully after the stop timeout). The
 *   watcher re-launches itself detached, so it is no child of the guard that the service host
 *   would kill together with it;
 * - a starting guard waits for a watcher still stopping the app of its previous run.
 */
export class WindowsServiceWatch implements Supervisor {
  private watcher?: NodeJS.WritableStream;

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

  async start(env: Readonly<Record<string, string>>): Promise<void> {
    await setServiceEnvironment(this.props.service, env, this.props.run);
    if (!this.watcher) {
      const [file, ...args] = this.props.command ?? selfCommand();
      const child = spawn(
        file,
        [...args, 'watch-service', '--service', this.props.service, '--stop-timeout-secs', String(this.props.stopTimeoutSecs), '--marker', this.props.markerFile],
        { detached: true, stdio: ['pipe', 'ignore', 'ignore'], windowsHide: true },
      );
      child.on('error', (e) => this.props.log.error({ err: String(e) }, 'could not start the app watcher'));
      child.unref();
      child.stdin!.on('error', () => undefined);
      this.watcher = child.stdin!;
    }
    await this.inner.start(env);
  }

  async stop(): Promise<void> {
    await this.inner.stop();
    const w = this.watcher;
    this.watcher = undefined;
    w?.end(DISMISS);
  }
}

/**
 * The watcher itself (`failover-guard watch-service`). First run: re-launches itself detached
 * with the same stdin and exits. Second run (`--stage 2`): writes the marker, reads stdin to its
 * end, and unless the guard dismissed it, stops the app service.
 */
export async function watchService(opts: { service: string; stopTimeoutSecs: number; marker: string; stage: number }, control: ServiceControl = windowsServiceControl(opts.service)): Promise<number> {
  if (opts.stage < 2) {
    const [file, ...args] = selfCommand();
    const child = spawn(file, [...args, 'watch-service', '--service', opts.service, '--stop-timeout-secs', String(opts.stopTimeoutSecs), '--marker', opts.marker, '--stage', '2'], {
      detached: true,
      stdio: ['inherit', 'ignore', 'ignore'],
      windowsHide: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    return 0;
  }
  writeFileSync(opts.marker, `${process.pid}\n`);
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => (input += d));
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.stdin.once('error', () => resolve());
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
  const deadline = Date.now() + stopTimeoutSecs * 1000;
  while ((await control.isRunning()) && Date.now() < deadline) await sleep(250);
  if (await control.isRunning()) await control.kill();
}
