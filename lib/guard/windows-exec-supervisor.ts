import { spawn, type ChildProcess } from 'child_process';
import type { Log } from './log';
import { probeReady } from './readiness';
import { runCommand, type RunCommand } from './service-supervisor';
import type { Supervisor } from './supervisor';

export interface WindowsExecSupervisorProps {
  /** Command line, run with `cmd.exe /d /s /c`. */
  readonly command: string;
  /** `service.ready`. @default - running = ready */
  readonly ready?: string;
  readonly stopTimeoutSecs: number;
  readonly log: Log;
  /** @default runs taskkill.exe */
  readonly run?: RunCommand;
}

/**
 * `exec` mode on Windows. The app must not outlive the guard: Node (libuv) assigns every child
 * it spawns without `detached` to a job object created with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
 * the guard holds its only handle, so when the guard process ends (stopped, crashed or
 * TerminateProcess), Windows kills the app and every process it started. No FFI, no watcher.
 * `windowsHide` starts the app without the guard's console (CREATE_NO_WINDOW gives it a console of its own),
 * so the Ctrl+C the service host sends to stop the guard reaches the guard only: the guard
 * drains first, then stops the app. Stop: `taskkill /T` (asks), then `taskkill /F /T` after the
 * stop timeout; Windows has no SIGTERM for console programs, so an app that needs a graceful
 * stop belongs in `windows-service` mode.
 */
export class WindowsExecSupervisor implements Supervisor {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private stopping = false;
  private listener?: (detail: string) => void;

  constructor(private readonly props: WindowsExecSupervisorProps) {}

  onExit(listener: (detail: string) => void): void {
    this.listener = listener;
  }

  /** An app left from an earlier guard run died with that guard's job object: nothing to find. */
  async cleanup(): Promise<void> {}

  async start(env: Readonly<Record<string, string>>): Promise<void> {
    if (this.child) return;
    const shell = process.env.ComSpec ?? 'cmd.exe';
    // /s + outer quotes: cmd takes the command line verbatim between the first and last quote.
    const child = spawn(shell, ['/d', '/s', '/c', `"${this.props.command}"`], {
      windowsVerbatimArguments: true,
      windowsHide: true,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env },
    });
    this.child = child;
    this.stopping = false;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    this.props.log.info({ pid: child.pid, guardPid: process.pid, command: this.props.command }, 'app started');
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (!this.stopping) {
        void this.killTree(child.pid!, true);
        this.listener?.(`exited with ${signal ?? `code ${code}`}`);
      }
    });
  }

  /** taskkill's exit code (non-zero: nothing could be closed that way). */
  private async killTree(pid: number, force = true): Promise<number> {
    return (await (this.props.run ?? runCommand)('taskkill.exe', [...(force ? ['/F'] : []), '/T', '/PID', String(pid)], 30000)).code;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !child.pid) return;
    this.stopping = true;
    const exited = this.exited!;
    // Without /F taskkill asks the app's windows to close; a console app has none and says so.
    if ((await this.killTree(child.pid, false)) === 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.props.stopTimeoutSecs * 1000)));
      const timedOut = await Promise.race([exited.then(() => false), timeout]);
      clearTimeout(timer);
      if (timedOut) this.props.log.warn({ pid: child.pid }, 'app did not stop in time: taskkill /F');
    }
    // in any case: processes the command started may outlive cmd.exe
    await this.killTree(child.pid, true);
    await exited;
    this.child = undefined;
    this.props.log.info({ pid: child.pid }, 'app stopped');
  }

  async ready(): Promise<boolean> {
    if (!this.child || this.stopping) return false;
    return this.props.ready ? probeReady(this.props.ready) : true;
  }
}
