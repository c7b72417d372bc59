/**
 * The guard's structured logger (pino-compatible): every guard module logs through it, so the
 * supervisors, hooks and the elector depend on this shape only, never on each other.
 */
export interface Log {
  /** Per-tick detail, written only at `log.level=debug`. @default - not written (a logger without it drops debug lines) */
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** `log.level`: `debug` adds one line per elector tick; `info` (the default) is role changes and problems only. */
export type LogLevel = 'debug' | 'info';
