import { KILL_RESERVE_MS } from '../../../contracts/timing';
import type { Log } from '../../log';
import { runCommand, type RunCommand } from '../../app/run-command';
import { byDeadline, exitedBy, ProcessSupervisor, spawnStarted, type StartedProcess } from '../../app/supervisor';

export interface WindowsExecSupervisorProps {
  /** Command line, run with `cmd.exe /d /s /c`. */
  readonly command: string;
  /** `service.ready`. @default - running = ready */
  readonly ready?: string;
  readonly stopTimeoutSecs: number;
  /** How long before a stop's deadline the polite stop turns into `taskkill /F /T`. @default {@link KILL_RESERVE_MS} */
  readonly killReserveMs?: number;
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
 * drains first, then stops the app. Stop: `taskkill /T` (asks), then `taskkill /F /T` before the
 * stop's deadline; kill (fence): `taskkill /F /T` at once; Windows has no SIGTERM for console programs, so an app that needs a graceful
 * stop belongs in `windows-service` mode.
 */
export class WindowsExecSupervisor extends ProcessSupervisor {
  constructor(private readonly props: WindowsExecSupervisorProps) {
    super(props.ready);
  }

  /** An app left from an earlier guard run died with that guard's job object: nothing to find. */
  async cleanup(): Promise<void> {}

  protected async launch(env: Readonly<Record<string, string>>, signal: AbortSignal): Promise<StartedProcess> {
    const shell = process.env.ComSpec ?? 'cmd.exe';
    // /s + outer quotes: cmd takes the command line verbatim between the first and last quote.
    const app = await spawnStarted(
      shell,
      ['/d', '/s', '/c', `"${this.props.command}"`],
      {
        windowsVerbatimArguments: true,
        windowsHide: true,
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, ...env },
      },
      signal,
    );
    this.props.log.info({ pid: app.child.pid, guardPid: process.pid, command: this.props.command }, 'app started');
    return app;
  }

  /** No backstop outside the guard kills an exec app on Windows: an end is the app's own. */
  protected ended(app: StartedProcess): undefined {
    void this.killTree(app.child.pid!, performance.now() + 30000);
    return undefined;
  }

  /** taskkill's exit code (non-zero: nothing could be closed that way), bounded by `deadline`. */
  private async killTree(pid: number, deadline: number, force = true): Promise<number> {
    const timeoutMs = Math.max(1, deadline - performance.now());
    return (await (this.props.run ?? runCommand)(['taskkill.exe', ...(force ? ['/F'] : []), '/T', '/PID', String(pid)], { timeoutMs })).code;
  }

  protected async terminate(app: StartedProcess, deadline: number): Promise<void> {
    const pid = app.child.pid!;
    const killAt = deadline - (this.props.killReserveMs ?? KILL_RESERVE_MS);
    // Without /F taskkill asks the app's windows to close; a console app has none and says so.
    if ((await this.killTree(pid, killAt, false)) === 0 && !(await exitedBy(app.exited, killAt))) {
      this.props.log.warn({ pid }, 'app did not stop in time: taskkill /F');
    }
    // in any case: processes the command started may outlive cmd.exe
    await this.killNow(app, deadline);
  }

  /**
   * `taskkill /F /T` at once (the tree: processes the command started may outlive cmd.exe);
   * gone once taskkill succeeded (0) or found nothing (128) and the app's own process has exited.
   */
  protected async killNow(app: StartedProcess, deadline: number): Promise<void> {
    const pid = app.child.pid!;
    const code = await this.killTree(pid, deadline, true);
    if (code !== 0 && code !== 128) throw new Error(`taskkill /F /T /PID ${pid} failed (exit ${code}): the app may still run`);
    await byDeadline(deadline, `app process ${pid} has not exited by the deadline`, app.exited);
    this.props.log.info({ pid }, 'app stopped');
  }
}
