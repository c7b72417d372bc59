/**
 * Builds failover-guard ahead of synth (synth builds it on its own; see lib/synth/guard-build.ts).
 *   tsx scripts/build-guard.ts --prebuilt        dist/guard/failover-guard.{cjs,blob}: what the
 *                                                package ships (run by `prepack`)
 *   tsx scripts/build-guard.ts [--target T]...   the single executables (default both targets),
 *                                                copied to dist/bin with a .sha256 beside each
 * Options: --cache DIR (default: the per-user cache), --out DIR (default: dist/bin).
 * The main bundle loads pg, mysql2, the AWS SDK and commander from chunks beside it (SEA assets
 * in the binaries) only when a config or command needs them. Both binaries embed WinSW (from the pinned `node-windows` package) as SEA assets: the Windows
 * boot script writes it out with `failover-guard service-host`.
 */
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { join, resolve } from 'path';
import { sha256OfFile } from '../lib/synth/guard-binary';
import { bundleGuard, guardChunkAssets, GUARD_NODE_VERSION, GUARD_RUNTIMES, guardBinary, guardCacheDir, nodeRuntime, PREBUILT, serviceHostAssets, writeSeaBlob, type GuardTarget } from '../lib/synth/guard-build';

const root = join(__dirname, '..');

function usage(): never {
  console.error(`usage: build-guard [--prebuilt] [--target ${Object.keys(GUARD_RUNTIMES).join('|')}]... [--cache DIR] [--out DIR]`);
  process.exit(2);
}

function main(): void {
  const args = process.argv.slice(2);
  const targets: GuardTarget[] = [];
  let prebuilt = false;
  let cacheDir = guardCacheDir();
  let out = join(root, 'dist', 'bin');
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (flag === '--prebuilt') prebuilt = true;
    else if (flag === '--cache' && args[i + 1]) cacheDir = resolve(args[++i]);
    else if (flag === '--out' && args[i + 1]) out = resolve(args[++i]);
    else if (flag === '--target' && args[i + 1] && args[i + 1] in GUARD_RUNTIMES) targets.push(args[++i] as GuardTarget);
    else usage();
  }
  const started = Date.now();
  if (prebuilt) {
    const dir = join(root, 'dist', 'guard');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const bundle = bundleGuard(root, join(dir, PREBUILT.bundle));
    chmodSync(bundle, 0o755); // also the package's `failover-guard` bin
    const blob = writeSeaBlob(bundle, nodeRuntime('linux-x64', cacheDir), { ...serviceHostAssets(cacheDir), ...guardChunkAssets(bundle) });
    console.log(`built ${bundle}\nbuilt ${blob} (sha256 ${sha256OfFile(blob)})`);
  } else {
    mkdirSync(out, { recursive: true });
    for (const target of targets.length > 0 ? targets : (Object.keys(GUARD_RUNTIMES) as GuardTarget[])) {
      const built = guardBinary(target, { cacheDir, root });
      const name = GUARD_RUNTIMES[target].output;
      const copy = join(out, name);
      copyFileSync(built, copy);
      chmodSync(copy, 0o755);
      const sha = sha256OfFile(copy);
      writeFileSync(`${copy}.sha256`, `${sha}  ${name}\n`);
      console.log(`built ${copy} (sha256 ${sha})`);
    }
  }
  console.log(`build:guard done in ${((Date.now() - started) / 1000).toFixed(1)} s (node ${GUARD_NODE_VERSION})`);
}

try {
  main();
} catch (e: unknown) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
