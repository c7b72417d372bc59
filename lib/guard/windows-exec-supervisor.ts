import type { Log } from './log';
import { runCommand, type RunCommand } from './service-supervisor';
import { exitedWithin, ProcessSupervisor, spawnStarted, type StartedProcess } from './supervisor';

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
export class WindowsExecSupervisor extends ProcessSupervisor {
  constructor(private readonly props: WindowsExecSupervisorProps) {
    super(props.ready);
  }

  /** An app left from an earlier guard run died with that guard's job object: nothing to find. */
  async cleanup(): Promise<void> {}

  protected async launch(env: Readonly<Record<string, string>>): Promise<StartedProcess> {
    const shell = process.env.ComSpec ?? 'cmd.exe';
    // /s + outer quotes: cmd takes the command line verbatim between the first and last quote.
    const app = await spawnStarted(shell, ['/d', '/s', '/c', `"${this.props.command}"`], {
      windowsVerbatimArguments: true,
      windowsHide: true,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env },
    });
    this.props.log.info({ pid: app.child.pid, guardPid: process.pid, command: this.props.command }, 'app started');
    return app;
  }

  protected ended(app: StartedProcess): void {
    void this.killTree(app.child.pid!, true);
  }

  /** taskkill's exit code (non-zero: nothing could be closed that way). */
  private async killTree(pid: number, force = true): Promise<number> {
    return (await (this.props.run ?? runCommand)('taskkill.exe', [...(force ? ['/F'] : []), '/T', '/PID', String(pid)], 30000)).code;
  }

  protected async terminate(app: StartedProcess): Promise<void> {
    const pid = app.child.pid!;
    // Without /F taskkill asks the app's windows to close; a console app has none and says so.
    if ((await this.killTree(pid, false)) === 0 && !(await exitedWithin(app.exited, this.props.stopTimeoutSecs))) {
      this.props.log.warn({ pid }, 'app did not stop in time: taskkill /F');
    }
    // in any case: processes the command started may outlive cmd.exe
    await this.killTree(pid, true);
    await app.exited;
    this.props.log.info({ pid }, 'app stopped');
  }
}
