import { spawn, type ChildProcess, type SpawnOptions } from 'child_process';

/** A database server process that can be stopped and started again with the same command line. */
export interface ServerProcess {
  /** Spawns the server; resolves once its stderr says `readyText`, rejects if it exits first. */
  start(): Promise<void>;
  /** Sends `stopSignal` and resolves when the process has exited (at once if not running). */
  stop(): Promise<void>;
}

export function serverProcess(command: string, args: readonly string[], options: SpawnOptions, readyText: string, stopSignal: NodeJS.Signals): ServerProcess {
  let proc: ChildProcess | undefined;
  return {
    start: () =>
      new Promise((resolve, reject) => {
        const p = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
        proc = p;
        let log = '';
        p.stderr!.on('data', (d: Buffer) => {
          log += d.toString();
          if (log.includes(readyText)) resolve();
        });
        p.on('exit', (code) => reject(new Error(`${command} exited (${code}): ${log}`)));
      }),
    stop: () =>
      new Promise((resolve) => {
        const p = proc;
        proc = undefined;
        if (!p || p.exitCode !== null) return resolve();
        p.once('exit', () => resolve());
        p.kill(stopSignal);
      }),
  };
}
