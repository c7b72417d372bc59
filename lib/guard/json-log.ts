import { hostname } from 'os';
import type { Log } from './log';

/** pino's level numbers, so log tooling that reads pino lines reads these too. */
const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/**
 * JSON lines on stdout in pino's shape (`level`, `time` in epoch ms, `pid`, `hostname`, the base
 * fields, the object's fields, `msg`). A few lines of code instead of pino and its worker-thread
 * transport machinery: the guard logs a handful of lines per role change, and every MB of
 * resident memory counts on small nodes.
 */
export function jsonLog(base: Readonly<Record<string, unknown>>, write: (line: string) => void = (l) => void process.stdout.write(l)): Log {
  const fixed = { pid: process.pid, hostname: hostname(), ...base };
  const line = (level: keyof typeof LEVELS, obj: object, msg: string): void => {
    let text: string;
    try {
      text = JSON.stringify({ level: LEVELS[level], time: Date.now(), ...fixed, ...obj, msg });
    } catch {
      text = JSON.stringify({ level: LEVELS[level], time: Date.now(), ...fixed, msg, logError: 'fields not serializable' });
    }
    write(text + '\n');
  };
  return {
    info: (obj, msg) => line('info', obj, msg),
    warn: (obj, msg) => line('warn', obj, msg),
    error: (obj, msg) => line('error', obj, msg),
  };
}
