import { withTimeout, type PasswordCache } from './password-cache';

/** What a lease store tells its {@link ConnectionSlot} about its database driver. */
export interface ConnectionDriver<C> {
  /**
   * Opens and sets up one connection within its own connect bound; ends it itself when that
   * fails. `slot` is the one asking (a store may keep several): its connection's error handler
   * drops it there.
   */
  open(slot: ConnectionSlot<C>): Promise<C>;
  /** Ends a connection without waiting for the server (a broken one, or one no longer wanted). */
  discard(c: C): void;
  /** Ends a connection politely (the store closes). */
  end(c: C): Promise<void>;
  /** Whether an `open()` failure says the server rejected the password. */
  passwordRejected(e: unknown): boolean;
}

/**
 * One connection a lease store keeps (a store keeps one per job; the driver can serve several), for both stores: opened on demand, one connect at a
 * time shared by concurrent statements; a rejected cached password fetched again and tried once
 * more; a statement waits for a connect at most `waitMs` while the connect goes on up to its own
 * bound (connectBounds) and its connection is kept; a connect completing after `close()`
 * discards its connection.
 */
export class ConnectionSlot<C> {
  private conn?: C;
  private connecting?: Promise<C>;
  private closed = false;

  constructor(
    private readonly driver: ConnectionDriver<C>,
    private readonly passwords: PasswordCache,
    private readonly waitMs: number,
  ) {}

  /** The connection, (re)connecting first when there is none. */
  get(): Promise<C> {
    if (this.conn) return Promise.resolve(this.conn);
    this.connecting ??= this.connectWithRotation().finally(() => (this.connecting = undefined));
    return withTimeout(this.connecting, this.waitMs + 100, 'connecting to the database');
  }

  /** Forgets a connection that failed (an error event, a failed statement) and discards it. */
  drop(c: C): void {
    if (this.conn === c) this.conn = undefined;
    this.driver.discard(c);
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.conn;
    this.conn = undefined;
    if (c !== undefined) await this.driver.end(c);
  }

  private async connectWithRotation(): Promise<C> {
    const cached = this.passwords.cached;
    try {
      return this.adopt(await this.driver.open(this));
    } catch (e) {
      if (!this.driver.passwordRejected(e)) throw e;
      this.passwords.invalidate();
      if (!cached) throw e;
      return this.adopt(await this.driver.open(this));
    }
  }

  private adopt(c: C): C {
    if (this.closed) {
      this.driver.discard(c);
      throw new Error('the lease store is closed');
    }
    this.conn = c;
    return c;
  }
}
