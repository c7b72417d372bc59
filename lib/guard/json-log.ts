import { hostname } from 'os';
import type { Log, LogLevel } from './log';

/** pino's level numbers, so log tooling that reads pino lines reads these too. */
const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/**
 * JSON lines on stdout in pino's shape (`level`, `time` in epoch ms, `pid`, `hostname`, the base
 * fields, the object's fields, `msg`). A few lines of code instead of pino and its worker-thread
 * transport machinery: the guard logs a handful of lines per role change, and every MB of
 * resident memory counts on small nodes. At `level` info the logger has no `debug` at all, so a
 * caller's `log.debug?.(…)` costs nothing (its fields are not even built).
 */
export function jsonLog(base: Readonly<Record<string, unknown>>, write: (line: string) => void = (l) => void process.stdout.write(l), level: LogLevel = 'info'): Log {
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
    ...(level === 'debug' ? { debug: (obj: object, msg: string) => line('debug', obj, msg) } : {}),
    info: (obj, msg) => line('info', obj, msg),
    warn: (obj, msg) => line('warn', obj, msg),
    error: (obj, msg) => line('error', obj, msg),
  };
}
