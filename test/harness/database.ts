/**
 * What the guard's database tests need from a real database server, whichever it is: both
 * test/harness/postgres.ts and test/harness/mariadb.ts implement it, and the store and failover
 * tests run once per entry of {@link DATABASES}.
 */
export interface TestDatabase {
  /** Human-readable name for describe titles. */
  readonly name: string;
  /** `database.url` for the guard (no password in it). */
  readonly url: string;
  /** The guard user's password (random per run). */
  readonly password: string;
  /** `database.password-source` for the guard: `file:<path>` of a 0600 file with the password. */
  readonly passwordSource: string;
  /** Runs one statement as an administrator (PostgreSQL `$1` or MySQL `?` placeholders). */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Ends every guard connection from the server side (as on a database failover). */
  killGuardSessions(): Promise<void>;
  /** Stops the server, keeping its data (the database-down fault). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops the server and deletes its temp directory. */
  close(): Promise<void>;
}

export interface DatabaseFixture {
  readonly name: string;
  start(): Promise<TestDatabase>;
}

/** Every database the guard supports, for `describe.each`. Loaded lazily: each helper pulls in its own client. */
export const DATABASES: readonly DatabaseFixture[] = [
  { name: 'PostgreSQL', start: async () => (await import('./postgres')).startPostgres() },
  { name: 'MariaDB', start: async () => (await import('./mariadb')).startMariadb() },
];
