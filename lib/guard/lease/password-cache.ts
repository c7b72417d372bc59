/** Rejects with `what timed out` after `ms`; the promise itself runs on (its result may still be used later). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The database password for (re)connects: fetched once and kept, fetched again only after the
 * server rejected it (rotation). Each wait for a fetch is bounded; a fetch that outlives the
 * bound keeps running and its result is kept for the next connect, so a slow secret store
 * costs one attempt, never a blocked renew path or shutdown.
 */
export class PasswordCache {
  private value?: string;
  private known = false;
  private pending?: Promise<string | undefined>;
  /** How many fetches were started (tests and logs). */
  fetches = 0;

  constructor(private readonly fetch?: () => Promise<string | undefined>) {}

  /** Whether the value was fetched for this connect (an auth failure with it is final). */
  get cached(): boolean {
    return this.known;
  }

  async get(timeoutMs: number): Promise<string | undefined> {
    if (!this.fetch) return undefined;
    if (this.known) return this.value;
    if (!this.pending) {
      this.fetches++;
      const p = this.fetch().then((v) => {
        if (this.pending === p) {
          this.value = v;
          this.known = true;
        }
        return v;
      });
      p.catch(() => undefined).finally(() => {
        if (this.pending === p) this.pending = undefined;
      });
      this.pending = p;
    }
    return withTimeout(this.pending, timeoutMs, 'fetching the database password');
  }

  /** The server rejected the password: fetch it again next time. */
  invalidate(): void {
    this.known = false;
    this.value = undefined;
  }
}
