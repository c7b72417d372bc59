import { buildSync } from 'esbuild';
import { join } from 'path';

/**
 * Bundles apps/failover-guard.ts once into `outDir` (fast process start for process-level
 * tests and the benchmark, and the same bundling the single executable uses).
 */
export function bundleGuard(outDir: string): string {
  const outfile = join(outDir, 'failover-guard.js');
  buildSync({
    entryPoints: [join(__dirname, '..', '..', 'apps', 'failover-guard.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}
