import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as mysql from 'mysql2/promise';
import { tmpdir } from 'os';
import { join } from 'path';
import type { TestDatabase } from './database';
import { freePort } from './ports';
import { serverProcess } from './processes';

export const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';

/** A real MariaDB (Debian's mariadb-server) in a temp dir, on a free loopback port. */
export interface TestMariadb extends TestDatabase {
  readonly port: number;
  /** Unix socket of the server (root connects through it, without a password). */
  readonly socket: string;
  /** With `tls`: the test CA (PEM) that signed the server certificate. */
  readonly caFile?: string;
}

export interface MariadbOptions {
  /** Serve TLS with a throwaway CA and certificate, and make the guard user REQUIRE SSL. @default false */
  readonly tls?: boolean;
}

/** A throwaway CA and a server certificate for 127.0.0.1, made with openssl in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=failover-guard test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('san.ext'));
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

/**
 * Starts a fresh MariaDB in a temp dir with a database `guard` and a user `guard` whose random
 * password is in a 0600 file (`passwordSource`). Throws (never skips) when the server is missing.
 */
export async function startMariadb(opts: MariadbOptions = {}): Promise<TestMariadb> {
  for (const bin of [MARIADBD, INSTALL_DB]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: the MariaDB guard tests need Debian's mariadb-server (sudo scripts/test-deps.sh installs it)`);
  }
  const root = mkdtempSync(join(tmpdir(), 'guard-mariadb-'));
  const data = join(root, 'data');
  const socket = join(root, 'sock');
  try {
    execFileSync(INSTALL_DB, ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'pipe' });
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? String(e)}`);
  }
  const certs = opts.tls ? makeCertificates(root) : undefined;
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
      ...(certs ? [`--ssl-ca=${certs.ca}`, `--ssl-cert=${certs.cert}`, `--ssl-key=${certs.key}`] : []),
    ],
    readyText: 'ready for connections',
    stopSignal: 'SIGTERM',
  });

  const sql = async (text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    const c = await mysql.createConnection({ socketPath: socket, user: 'root', database: 'guard', multipleStatements: false });
    try {
      const [rows] = await c.query(text, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } finally {
      await c.end();
    }
  };

  const password = randomBytes(18).toString('base64url');
  const pwFile = join(root, 'guard-password');
  writeFileSync(pwFile, password + '\n', { mode: 0o600 });
  try {
    await start();
    const admin = await mysql.createConnection({ socketPath: socket, user: 'root', multipleStatements: true });
    try {
      await admin.query(
        `CREATE DATABASE guard; CREATE USER 'guard'@'127.0.0.1' IDENTIFIED BY ${admin.escape(password)}${certs ? ' REQUIRE SSL' : ''}; GRANT ALL ON guard.* TO 'guard'@'127.0.0.1'`,
      );
    } finally {
      await admin.end();
    }
  } catch (e) {
    await stop();
    rmSync(root, { recursive: true, force: true });
    throw e;
  }

  return {
    name: 'MariaDB',
    url: `mysql://guard@127.0.0.1:${port}/guard`,
    port,
    socket,
    caFile: certs?.ca,
    password,
    passwordSource: `file:${pwFile}`,
    sql,
    killGuardSessions: async () => {
      for (const row of await sql(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = 'guard'`)) {
        await sql(`KILL ${Number(row.id)}`).catch(() => undefined); // may have gone meanwhile
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
