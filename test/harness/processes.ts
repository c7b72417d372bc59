/**
 * Processes the tests, the drill and the booted nodes start: each in its own process group and
 * carrying a run marker in its environment, so the final scan finds exactly ours (children too).
 */
import { execFile, spawn, type ChildProcess } from 'child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'fs';
import { sleep } from './wait';

/** Environment variable every process of one run carries (value: the run id). */
export const RUN_MARK = 'FAILOVER_DRILL_RUN';

export interface SpawnedOptions {
  readonly env?: Record<string, string>;
  /** Append stdout and stderr to this file. @default - discarded */
  readonly log?: string;
  /** Pipe stderr to the caller instead (readiness lines); stdout is still `log` or discarded. */
  readonly pipeStderr?: boolean;
  readonly uid?: number;
  readonly gid?: number;
}

/** Processes of one run: spawned in their own process groups, found again by the run marker. */
export class Procs {
  readonly runId = Math.random().toString(36).slice(2, 10);
  private readonly groups = new Set<number>();

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...process.env, [RUN_MARK]: this.runId, ...extra };
  }

  spawn(cmd: string, args: readonly string[], opts: SpawnedOptions = {}): ChildProcess {
    const fd = opts.log ? openSync(opts.log, 'a') : 'ignore';
    const p = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, opts.pipeStderr ? 'pipe' : fd], env: this.env(opts.env), uid: opts.uid, gid: opts.gid });
    if (typeof fd === 'number') closeSync(fd);
    p.on('error', () => undefined);
    if (p.pid) this.groups.add(p.pid);
    return p;
  }

  /** Runs a command to completion without blocking the event loop (samplers keep sampling). */
  run(cmd: string, args: readonly string[], timeoutMs = 20000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(cmd, args, { env: this.env(), timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** pids of live processes carrying this run's marker (children included), except ourselves. */
  leftovers(): number[] {
    return markedProcesses(this.runId);
  }

  /** SIGKILL to every group we started, then to anything still carrying the marker; returns what the last scan found. */
  async killAll(): Promise<number[]> {
    for (const g of this.groups) killGroup(g, 'SIGKILL');
    let left: number[] = [];
    for (let i = 0; i < 40; i++) {
      left = this.leftovers();
      if (left.length === 0) return [];
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await sleep(100);
    }
    return left;
  }
}

/** pids of live processes carrying run `runId`'s marker, except ourselves. */
export function markedProcesses(runId: string): number[] {
  const mark = `${RUN_MARK}=${runId}`;
  const found: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(mark)) found.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

export function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // gone
  }
}

/** True while `pid` runs (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A database server process that can be stopped and started again with the same command line. */
export interface ServerProcess {
  /** Spawns the server; resolves once its stderr says `readyText`, rejects if it exits first. */
  start(): Promise<void>;
  /** Sends `stopSignal` and resolves when the process has exited (at once if not running). */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** Printed on stderr once the server accepts connections. */
  readonly readyText: string;
  /** The signal for a shutdown that ends client connections at once. */
  readonly stopSignal: NodeJS.Signals;
  readonly env?: Record<string, string>;
  readonly uid?: number;
  readonly gid?: number;
  /** Spawn through this run's registry (marker, own group) so its final scan covers the server. @default - a registry of its own */
  readonly procs?: Procs;
}

export function serverProcess(o: ServerProcessOptions): ServerProcess {
  const procs = o.procs ?? new Procs();
  let proc: ChildProcess | undefined;
  return {
    start: () =>
      new Promise((resolve, reject) => {
        const p = procs.spawn(o.command, o.args, { env: o.env, uid: o.uid, gid: o.gid, pipeStderr: true });
        proc = p;
        let log = '';
        p.stderr!.on('data', (d: Buffer) => {
          log += d.toString();
          if (log.includes(o.readyText)) resolve();
        });
        p.on('exit', (code) => reject(new Error(`${o.command} exited (${code}): ${log}`)));
      }),
    stop: () =>
      new Promise((resolve) => {
        const p = proc;
        proc = undefined;
        if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
        p.once('exit', () => resolve());
        p.kill(o.stopSignal);
      }),
  };
}
