import type { Clock } from './clock';
import type { Log } from '../log';

/**
 * A warning that may repeat many times a second (every poll during a database outage): logged
 * the first time, then at most once per `everyMs` with the number of repeats in between, and
 * once more when the condition clears.
 */
export class RepeatedWarning {
  private repeats = 0;
  private lastLoggedAt = -Infinity;
  private active = false;

  constructor(
    private readonly log: Log,
    private readonly clock: Clock,
    private readonly msg: string,
    private readonly everyMs = 30000,
  ) {}

  /** One more occurrence. */
  warn(obj: object): void {
    const now = this.clock.now();
    this.active = true;
    if (now - this.lastLoggedAt >= this.everyMs) {
      this.log.warn({ ...obj, repeatedSinceLastLog: this.repeats }, this.msg);
      this.lastLoggedAt = now;
      this.repeats = 0;
    } else this.repeats++;
  }

  /** The condition cleared: say so once (with the count not yet logged). */
  clear(): void {
    if (!this.active) return;
    this.log.info({ repeatedSinceLastLog: this.repeats }, `${this.msg}: recovered`);
    this.active = false;
    this.repeats = 0;
    this.lastLoggedAt = -Infinity;
  }
}
