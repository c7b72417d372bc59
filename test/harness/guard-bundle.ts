import { join } from 'path';
import { bundleGuard as buildGuardBundle } from '../../lib/synth/guard-build';

/**
 * Bundles apps/failover-guard.ts once into `outDir` as the single executable carries it: the
 * minified main bundle and, beside it, the chunks it loads on first use (pg, mysql2 with what
 * it leaves out, the AWS SDK, commander). Process-level tests, the drill, the booted nodes and
 * the benchmark run it under Node, so they test the code that ships (fast to start).
 */
export function bundleGuard(outDir: string): string {
  return buildGuardBundle(join(__dirname, '..', '..'), join(outDir, 'failover-guard.js'));
}
