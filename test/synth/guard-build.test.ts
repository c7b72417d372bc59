/**
 * The synth-time guard build is reproducible: the same sources in two different folders (names
 * and depths differ, each with its own cache) give byte-identical bundles, blobs and Linux
 * binaries, and the same stack synthesizes to identical JSON with either cache. Prints the
 * SHA-256 and the folders. The Node runtime is shared from the test cache (fetched once).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, TerraformStack } from 'cdktf';
import { AwsFailoverCluster } from '../../lib/aws/aws-failover-cluster';
import { sha256OfFile } from '../../lib/synth/guard-binary';
import { gunzipSync } from 'zlib';
import { compressedGuardBinary, GUARD_EXEC_ARGV, guardBinary, guardBlob, nodeRuntime } from '../../lib/synth/guard-build';
import { chunkFileName, GUARD_CHUNKS, type GuardChunk } from '../../lib/guard/chunks';
import { papercut } from '../../lib/spec';
import { TEST_GUARD_CACHE } from '../harness/guard-cache';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
let work: string;
let checkouts: Array<{ root: string; cacheDir: string }>;

/** A copy of what the guard is built from (sources and package.json), with its own empty cache sharing the runtime. */
function checkout(dir: string): { root: string; cacheDir: string } {
  mkdirSync(dir, { recursive: true });
  for (const part of ['apps', 'lib', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const cache = join(dir, '.guard-cache');
  mkdirSync(cache);
  symlinkSync(join(TEST_GUARD_CACHE, 'node'), join(cache, 'node'));
  return { root: dir, cacheDir: cache };
}

beforeAll(() => {
  nodeRuntime('linux-x64', TEST_GUARD_CACHE); // fetched once into the shared test cache
  work = mkdtempSync(join(tmpdir(), 'fc-guard-build-'));
  checkouts = [checkout(join(work, 'checkout-a')), checkout(join(work, 'elsewhere', 'deeper', 'clone-b'))];
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('guard build', () => {
  it('builds byte-identical blobs and Linux binaries in two different folders, with no folder path inside', () => {
    // given / when
    const blobs = checkouts.map((c) => guardBlob(c.root, c.cacheDir));
    const binaries = checkouts.map((c) => guardBinary('linux-x64', c));
    const shas = binaries.map(sha256OfFile);
    console.log(`guard binary sha256 (linux-x64):\n${checkouts.map((c, i) => `  ${shas[i]}  built in ${c.root}`).join('\n')}`);
    // then
    expect(readFileSync(blobs[1])).toEqual(readFileSync(blobs[0]));
    const blobText = readFileSync(blobs[0], 'latin1');
    expect(blobText).toContain('failover-guard.cjs'); // the main script's fixed relative name
    // the guard's V8 flags (memory) and its lazily loaded chunks travel inside the blob
    for (const flag of GUARD_EXEC_ARGV) expect(blobText).toContain(flag);
    for (const chunk of Object.keys(GUARD_CHUNKS) as GuardChunk[]) expect(blobText).toContain(chunkFileName(chunk));
    for (const path of [work, ROOT, tmpdir() + '/']) expect(blobText).not.toContain(path);
    expect(shas[1]).toBe(shas[0]);
    checkouts.forEach((c, i) => expect(binaries[i].startsWith(c.cacheDir)).toBe(true));
  });

  it('compresses the binary to byte-identical gzip files in two caches, named by the binary\'s hash', () => {
    // given
    const binaries = checkouts.map((c) => guardBinary('linux-x64', c));
    // when
    const compressed = checkouts.map((c, i) => compressedGuardBinary(binaries[i], c));
    // then
    const bytes = compressed.map((c) => readFileSync(c.path));
    expect(bytes[1].equals(bytes[0])).toBe(true);
    expect(bytes[0].readUInt32LE(4)).toBe(0); // no mtime
    expect(bytes[0][9]).toBe(255); // OS "unknown", whatever host compressed it
    expect(compressed[0].sha256).toBe(sha256OfFile(binaries[0]));
    expect(compressed[0].path).toBe(join(checkouts[0].cacheDir, 'compressed', compressed[0].sha256, 'failover-guard-linux-x64.gz'));
    expect(gunzipSync(bytes[0]).equals(readFileSync(binaries[0]))).toBe(true);
    console.log(`guard binary linux-x64: ${readFileSync(binaries[0]).length} bytes, gzip -9: ${bytes[0].length} bytes`);
  });

  it('synthesizes the same stack to identical JSON with either folder\'s cache (default binaryPath)', () => {
    // given
    const synthWith = (cache: string): string => {
      const previous = process.env.FAILOVER_CONSTRUCTS_CACHE;
      process.env.FAILOVER_CONSTRUCTS_CACHE = cache;
      try {
        const outdir = mkdtempSync(join(work, 'out-'));
        const app = new App({ outdir });
        const stack = new TerraformStack(app, 'print');
        new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
        new AwsFailoverCluster(stack, 'pc', {
          spec: { name: 'pc', profile: papercut() },
          vpcId: 'vpc-0123456789abcdef0',
          vpcCidr: '10.0.0.0/16',
          subnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
        });
        app.synth();
        return readFileSync(join(outdir, 'stacks', 'print', 'cdk.tf.json'), 'utf8');
      } finally {
        if (previous === undefined) delete process.env.FAILOVER_CONSTRUCTS_CACHE;
        else process.env.FAILOVER_CONSTRUCTS_CACHE = previous;
      }
    };
    // when
    const [first, second] = checkouts.map((c) => synthWith(c.cacheDir));
    // then
    expect(second).toBe(first);
    expect(first).toContain(`failover-guard/${sha256OfFile(guardBinary('linux-x64', checkouts[0]))}/failover-guard-linux-x64.gz`);
  });

  it('in a source checkout, reuses the blob until a source file changes, then builds a new one', () => {
    // given
    const [, b] = checkouts;
    const before = guardBlob(b.root, b.cacheDir);
    const again = guardBlob(b.root, b.cacheDir);
    // when
    writeFileSync(join(b.root, 'lib', 'guard', 'version.ts'), readFileSync(join(b.root, 'lib', 'guard', 'version.ts'), 'utf8').replace(/'\d+\.\d+\.\d+'/, "'9.9.9'"));
    const after = guardBlob(b.root, b.cacheDir);
    // then
    expect(again).toBe(before);
    expect(after).not.toBe(before);
    expect(readFileSync(after, 'latin1')).toContain('9.9.9');
  });

  it('in an installed package (no sources), uses the shipped blob, and says so when it is missing', () => {
    // given
    const pkg = join(work, 'installed');
    mkdirSync(join(pkg, 'dist', 'guard'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"failover-constructs"}');
    // when / then
    expect(() => guardBlob(pkg, join(work, 'unused-cache'))).toThrow(`the prebuilt guard blob ${join(pkg, 'dist', 'guard', 'failover-guard.blob')} is missing from the package`);
    writeFileSync(join(pkg, 'dist', 'guard', 'failover-guard.blob'), 'blob');
    expect(guardBlob(pkg, join(work, 'unused-cache'))).toBe(join(pkg, 'dist', 'guard', 'failover-guard.blob'));
    expect(existsSync(join(work, 'unused-cache'))).toBe(false);
  });
});
