import { execFile } from 'child_process';
import { mkdir, rename, rm, writeFile } from 'fs/promises';
import { dirname } from 'path';
import type { Log } from './elector';

/**
 * sd_notify for `Type=notify` guard units: READY=1 once the guard serves, WATCHDOG=1 every
 * WATCHDOG_USEC/3 from the event loop (a stalled loop misses its pings and systemd kills the guard).
 * `systemd-notify --pid=<our pid>` sends as this process, so the unit's `NotifyAccess=main` accepts it.
 * Outside systemd (no NOTIFY_SOCKET) it does nothing.
 */
export class SystemdNotifier {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly log: Log,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get enabled(): boolean {
    return !!this.env.NOTIFY_SOCKET;
  }

  ready(): void {
    if (!this.enabled) return;
    this.send('READY=1');
    const usec = Number(this.env.WATCHDOG_USEC);
    const forUs = this.env.WATCHDOG_PID === undefined || Number(this.env.WATCHDOG_PID) === process.pid;
    if (usec > 0 && forUs) {
      this.timer = setInterval(() => this.send('WATCHDOG=1'), Math.max(100, usec / 3000));
      this.timer.unref();
    }
  }

  /** Pings go on while the guard shuts down: a guard stalled in its shutdown is still killed. */
  stopping(): void {
    if (this.enabled) this.send('STOPPING=1');
  }

  private send(message: string): void {
    execFile('systemd-notify', [`--pid=${process.pid}`, message], { timeout: 5000 }, (err) => {
      if (err) this.log.warn({ err: String(err), message }, 'systemd-notify failed');
    });
  }
}

/** Writes the per-start environment (`KEY=value` lines, 0600) atomically. */
export async function writeTermEnvFile(file: string, env: Readonly<Record<string, string>>): Promise<void> {
  const bad = Object.entries(env).find(([k, v]) => !/^[A-Z_][A-Z0-9_]*$/.test(k) || /[\r\n\\"'$`]/.test(v));
  if (bad) throw new Error(`cannot write ${bad[0]} to ${file}: name or value not safe for an EnvironmentFile`);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  await rename(tmp, file);
}

export async function removeTermEnvFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
