import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as mysql from 'mysql2/promise';
import { tmpdir } from 'os';
import { join } from 'path';
import type { TestDatabase } from './database';
import { freePort } from './ports';
import { serverProcess } from './processes';
import { makeServerCertificates, type TestCertificates } from './tls';

export const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';

/**
 * A real MariaDB (Debian's mariadb-server) in a temp dir, on a free loopback port, set up as RDS
 * hands one over: `require_secure_transport=ON` (a clear-text TCP connect is refused), a server
 * certificate from a private CA made for this run, and a master user `guard`@`%` with exactly
 * RDS for MariaDB's master grants on `*.*` WITH GRANT OPTION (no SUPER, no CONNECTION ADMIN).
 */
export interface TestMariadb extends TestDatabase {
  readonly port: number;
  /** Unix socket of the server (root connects through it, without a password: the harness's superuser). */
  readonly socket: string;
}

export interface MariadbOptions {
  /**
   * Opt out of the managed-like setup: clear-text TCP accepted, `url` without TLS, and the user
   * `guard` holds ALL PRIVILEGES (SUPER included). The value is the reason (required, never
   * empty), and the test that passes it says why in a comment too.
   * @default - managed-like
   */
  readonly plainSuperuser?: string;
}

/** RDS for MariaDB's master user privileges (AWS's "Master user account privileges" table). */
export const RDS_MARIADB_MASTER_GRANTS =
  'SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, REPLICATION SLAVE';

type Sql = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

function sqlOver(config: mysql.ConnectionOptions): Sql {
  return async (text, params = []) => {
    const c = await mysql.createConnection({ ...config, multipleStatements: false });
    try {
      const [rows] = await c.query(text, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } finally {
      await c.end();
    }
  };
}

/**
 * Starts a fresh MariaDB in a temp dir with a database `guard` and the master user `guard` whose
 * random password is in a 0600 file (`passwordSource`). Throws (never skips) when the server is missing.
 */
export async function startMariadb(opts: MariadbOptions = {}): Promise<TestMariadb> {
  if (opts.plainSuperuser !== undefined && !opts.plainSuperuser.trim()) throw new Error('startMariadb: plainSuperuser needs the reason the test cannot use the managed-like server');
  const plain = opts.plainSuperuser !== undefined;
  for (const bin of [MARIADBD, INSTALL_DB]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: the MariaDB guard tests need Debian's mariadb-server (sudo scripts/test-deps.sh installs it)`);
  }
  const root = mkdtempSync(join(tmpdir(), 'guard-mariadb-'));
  const data = join(root, 'data');
  const socket = join(root, 'sock');
  // its own temp dir: other runs' servers on this machine share /tmp
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  let certs: TestCertificates;
  try {
    execFileSync(INSTALL_DB, ['--no-defaults', `--datadir=${data}`, `--tmpdir=${tmp}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'pipe' });
    certs = makeServerCertificates(join(root, 'tls'));
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`MariaDB setup failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? String(e)}`);
  }
  const port = await freePort();
  // SIGTERM: normal shutdown, which ends client connections at once
  const { start, stop } = serverProcess({
    command: MARIADBD,
    args: [
      '--no-defaults',
      `--datadir=${data}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket}`,
      `--tmpdir=${tmp}`,
      '--user=root',
      '--skip-log-bin',
      `--pid-file=${join(root, 'mariadbd.pid')}`,
      '--skip-name-resolve',
      // a throwaway test server: durability off, small memory
      '--innodb-flush-log-at-trx-commit=0',
      '--innodb-doublewrite=0',
      '--innodb-buffer-pool-size=16M',
      '--innodb-log-file-size=8M',
      '--performance-schema=OFF',
      `--ssl-ca=${certs.ca}`,
      `--ssl-cert=${certs.cert}`,
      `--ssl-key=${certs.key}`,
      // managed-like: TLS only over TCP (the Unix socket is the harness's root's alone)
      ...(plain ? [] : ['--require-secure-transport=ON']),
    ],
    readyText: 'ready for connections',
    stopSignal: 'SIGTERM',
  });

  const ca = readFileSync(certs.ca, 'utf8');
  const password = randomBytes(18).toString('base64url');
  const superSql = sqlOver({ socketPath: socket, user: 'root', database: 'guard' });
  const sql = sqlOver({ host: '127.0.0.1', port, user: 'guard', password, database: 'guard', ssl: plain ? undefined : { ca } });

  const pwFile = join(root, 'guard-password');
  writeFileSync(pwFile, password + '\n', { mode: 0o600 });
  try {
    await start();
    const admin = await mysql.createConnection({ socketPath: socket, user: 'root', multipleStatements: true });
    try {
      const grants = plain ? 'ALL PRIVILEGES' : RDS_MARIADB_MASTER_GRANTS;
      await admin.query(`CREATE DATABASE guard; CREATE USER 'guard'@'%' IDENTIFIED BY ${admin.escape(password)}; GRANT ${grants} ON *.* TO 'guard'@'%' WITH GRANT OPTION`);
    } finally {
      await admin.end();
    }
  } catch (e) {
    await stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    throw e;
  }

  const tlsQuery = plain ? '' : `?ssl-mode=VERIFY_IDENTITY&ssl-ca=${certs.ca}`;
  return {
    name: 'MariaDB',
    url: `mysql://guard@127.0.0.1:${port}/guard${tlsQuery}`,
    userUrl: (user, database) => `mysql://${user}@127.0.0.1:${port}/${database}${tlsQuery}`,
    port,
    socket,
    caFile: plain ? undefined : certs.ca,
    password,
    passwordSource: `file:${pwFile}`,
    sql,
    superuser: { sql: superSql },
    killGuardSessions: async () => {
      for (const row of await superSql(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = 'guard'`)) {
        await superSql(`KILL ${Number(row.id)}`).catch(() => undefined); // may have gone meanwhile
      }
    },
    start,
    stop,
    close: async () => {
      await stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
