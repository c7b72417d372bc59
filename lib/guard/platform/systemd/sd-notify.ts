import { spawn } from 'child_process';
import type { Log } from '../../log';

export interface SystemdNotifierProps {
  /** NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID come from here. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Log;
  /** @default systemd-notify */
  readonly command?: string;
  /** This process's pid (WATCHDOG_PID must name it). @default process.pid */
  readonly pid?: number;
}

/**
 * sd_notify for the guard in systemd mode (unit `Type=notify`, `NotifyAccess=main`,
 * `WatchdogSec=` = watchdogSecs(timings)): READY=1 once the guard serves, WATCHDOG=1 four times
 * per watchdog period from the event loop, so a stalled guard (SIGSTOP, VM freeze, D-state) stops
 * pinging and systemd kills it, and through the unit relations its app.
 *
 * Node cannot send unix datagrams, so each message is a `systemd-notify` spawned directly (no
 * shell): it sends with its parent's pid as credentials (systemd's src/notify/notify.c:
 * `source_pid = getppid()` then `sd_pid_notify(source_pid, …)`; the kernel accepts a foreign pid
 * from root), so the message counts as the guard's own — the unit's main pid — and
 * NotifyAccess=main accepts it. Without NOTIFY_SOCKET (not under systemd, Type=simple) this does nothing.
 */
export class SystemdNotifier {
  private timer?: NodeJS.Timeout;
  private inFlight = false;

  constructor(private readonly props: SystemdNotifierProps) {}

  get enabled(): boolean {
    return !!this.props.env.NOTIFY_SOCKET;
  }

  /** The watchdog period systemd expects pings within, in ms (undefined: no watchdog for us). */
  get watchdogMs(): number | undefined {
    const usec = Number(this.props.env.WATCHDOG_USEC);
    const pid = this.props.env.WATCHDOG_PID;
    if (!this.enabled || !Number.isFinite(usec) || usec <= 0) return undefined;
    if (pid !== undefined && Number(pid) !== (this.props.pid ?? process.pid)) return undefined;
    return usec / 1000;
  }

  private send(message: string): void {
    if (!this.enabled || this.inFlight) return; // a slow systemd-notify never piles up
    this.inFlight = true;
    const child = spawn(this.props.command ?? 'systemd-notify', [message], { stdio: 'ignore', env: { PATH: process.env.PATH, ...this.props.env } });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      this.inFlight = false;
    };
    child.once('error', (e) => {
      done();
      this.props.log.warn({ err: String(e), message }, 'systemd-notify failed to start');
    });
    child.once('exit', (code) => {
      done();
      if (code !== 0) this.props.log.warn({ code, message }, 'systemd-notify failed');
    });
  }

  /** READY=1, and the watchdog pings from now on. */
  ready(): void {
    this.send('READY=1');
    const period = this.watchdogMs;
    if (period === undefined) return;
    this.props.log.info({ watchdogMs: period }, 'systemd watchdog: pinging');
    this.timer = setInterval(() => this.send('WATCHDOG=1'), Math.max(100, period / 4));
    this.timer.unref();
  }

  /** STOPPING=1 (the guard is handing over); pings go on until {@link close}, so a slow handover is not killed. */
  stopping(): void {
    this.send('STOPPING=1');
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
