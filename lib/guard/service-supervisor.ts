import { execFile } from 'child_process';
import type { Log } from './elector';
import { probeReady } from './readiness';
import type { Supervisor } from './supervisor';
import { termEnvFile } from '../spec/service-contract';
import { removeTermEnvFile, writeTermEnvFile } from './systemd-notify';

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
export type RunCommand = (file: string, args: readonly string[], timeoutMs: number) => Promise<{ code: number; stdout: string }>;

export const runCommand: RunCommand = (file, args, timeoutMs) =>
  new Promise((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs, windowsHide: true }, (err, stdout) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout) });
    });
  });

/** How one service manager starts, stops and inspects a service. */
export interface ServiceControl {
  readonly describe: string;
  start(env: Readonly<Record<string, string>>): Promise<void>;
  /** Asks the service to stop (the manager's own stop timeout applies). */
  stop(): Promise<void>;
  isRunning(): Promise<boolean>;
  /** Last resort after the stop timeout. */
  kill(): Promise<void>;
}

export interface ServiceSupervisorProps {
  readonly control: ServiceControl;
  readonly ready?: string;
  readonly stopTimeoutSecs: number;
  readonly log: Log;
}

/**
 * `systemd` and `windows-service` modes: the OS service manager runs the app; the guard only
 * starts, stops and probes it. (That the app dies with the guard is the unit's business: the boot
 * scripts bind the app unit to the guard unit.)
 */
export class ServiceSupervisor implements Supervisor {
  constructor(private readonly props: ServiceSupervisorProps) {}

  onExit(): void {
    // The service manager owns the process; a crash shows up as "not ready".
  }

  async cleanup(): Promise<void> {
    await this.stop();
  }

  async start(env: Readonly<Record<string, string>>): Promise<void> {
    await this.props.control.start(env);
    this.props.log.info({ service: this.props.control.describe }, 'app started');
  }

  async stop(): Promise<void> {
    const { control, stopTimeoutSecs } = this.props;
    await control.stop();
    const deadline = Date.now() + stopTimeoutSecs * 1000;
    while ((await control.isRunning()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (await control.isRunning()) {
      this.props.log.warn({ service: control.describe }, 'service did not stop in time: killing it');
      await control.kill();
    }
  }

  async ready(): Promise<boolean> {
    if (!(await this.props.control.isRunning())) return false;
    return this.props.ready ? probeReady(this.props.ready) : true;
  }
}

/**
 * systemctl; the term reaches the unit through its per-start environment file (the unit's
 * `EnvironmentFile=`), removed again on stop so no later start can reuse it.
 */
export function systemdControl(unit: string, run: RunCommand = runCommand, stopTimeoutSecs = 60, envFile: string = termEnvFile(unit)): ServiceControl {
  const ctl = (args: string[], secs = 30) => run('systemctl', args, secs * 1000);
  return {
    describe: unit,
    start: async (env) => {
      await writeTermEnvFile(envFile, env);
      const r = await ctl(['start', '--no-block', unit]);
      if (r.code !== 0) throw new Error(`systemctl start ${unit} failed (exit ${r.code})`);
    },
    stop: async () => {
      await removeTermEnvFile(envFile);
      await ctl(['stop', '--no-block', unit]);
    },
    isRunning: async () => (await ctl(['is-active', '--quiet', unit])).code === 0,
    kill: async () => {
      await ctl(['kill', '--signal=SIGKILL', unit], stopTimeoutSecs);
    },
  };
}

/** sc.exe; `query` prints `STATE : 4 RUNNING` (1 = STOPPED, 2/3 = start/stop pending). */
export function windowsServiceControl(name: string, run: RunCommand = runCommand): ServiceControl {
  const sc = (args: string[]) => run('sc.exe', args, 30000);
  return {
    describe: name,
    start: async () => {
      const r = await sc(['start', name]);
      // 1056: already running
      if (r.code !== 0 && r.code !== 1056) throw new Error(`sc.exe start ${name} failed (exit ${r.code})`);
    },
    stop: async () => {
      await sc(['stop', name]);
    },
    isRunning: async () => {
      const r = await sc(['query', name]);
      const state = /STATE\s*:\s*(\d+)/.exec(r.stdout)?.[1];
      return state !== undefined && state !== '1';
    },
    kill: async () => {
      await run('taskkill.exe', ['/F', '/FI', `SERVICES eq ${name}`], 30000);
    },
  };
}
