/**
 * What the guard's database tests need from a real database server, whichever it is: both
 * test/harness/postgres.ts and test/harness/mariadb.ts implement it, and the store and failover
 * tests run once per entry of {@link DATABASES}.
 *
 * Managed-like by default (as RDS and Azure hand a database over): TLS only, a server
 * certificate from a private CA made per run (not in Node's store), and a master user that is
 * no superuser. `url` is the master's, with `verify-full`/`VERIFY_IDENTITY` and that CA.
 */
export interface TestDatabase {
  /** Human-readable name for describe titles. */
  readonly name: string;
  /** `database.url` for the guard: the master user's, verifying the server with {@link caFile} (no password in it). */
  readonly url: string;
  /** The master user's password (random per run). */
  readonly password: string;
  /** `database.password-source` for the guard: `file:<path>` of a 0600 file with the password. */
  readonly passwordSource: string;
  /** The private CA (PEM file) that signed the server's certificate; undefined with `plainSuperuser`. */
  readonly caFile?: string;
  /** `url` for another user and database on the same server, with the same TLS verification. */
  userUrl(user: string, database: string): string;
  /** Runs one statement as the master user, over TLS (PostgreSQL `$1` or MySQL `?` placeholders). */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /**
   * The harness's own superuser, for what only the cloud's operator can do (ending other users'
   * sessions as a failover does, inspecting everything). Never handed to the guard or a hook.
   */
  readonly superuser: { sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]> };
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
