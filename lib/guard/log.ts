/**
 * The guard's structured logger (pino-compatible): every guard module logs through it, so the
 * supervisors, hooks and the elector depend on this shape only, never on each other.
 */
export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
