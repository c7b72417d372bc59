/**
 * A new user's path: `npm pack` this repository (prepack builds dist/), install the tarball and
 * the peers into a throwaway project made like `cdktf init --template=typescript` makes one
 * (tsconfig `moduleResolution: node`), with the README's files; type-check them and every
 * TypeScript example of README.md and docs/*.md, synthesize with `ts-node main.ts` (cdktf.json's
 * app) and run a `Testing` snapshot test twice. Nothing is built
 * in this repository for the consumer: its guard binary is built at synth from the packed blob
 * into the test cache (warm after the first run). Prints the tarball size and the times.
 */
import { createHash } from 'crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
// the docs' examples (README.md, docs/*.md), as files of the consumer project
import { blockFiles, docPages, tsBlocks } from '../docs/doc-pages';
import { sha256OfFile } from '../../lib/synth/guard-binary';
import { guardBinary } from '../../lib/synth/guard-build';
import { TEST_GUARD_CACHE } from '../harness/guard-cache';
import { installedVersion, readmeFiles, run, writeConsumerProject } from './consumer-project';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');
const CACHE = { FAILOVER_CONSTRUCTS_CACHE: TEST_GUARD_CACHE };
let work: string;
let project: string;
const figures: Record<string, string> = {};

function installedVersionOfThisPackage(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function timed<T>(name: string, fn: () => T): T {
  const started = Date.now();
  const result = fn();
  figures[name] = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  return result;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fc-consumer-'));
  const packed = timed('npm pack (prepack: tsc, bundle, blob)', () => run(ROOT, 'npm', ['pack', '--pack-destination', work, '--silent'], CACHE)).trim().split('\n').pop()!;
  const tarball = join(work, packed);
  figures['tarball'] = `${(statSync(tarball).size / 1e6).toFixed(2)} MB`;
  project = join(work, 'print-infra');
  const { files } = readmeFiles();
  const examples = [...blockFiles(docPages().flatMap(tsBlocks))].map(([path, block]) => [`doc-examples/${path}`, block.text]);
  writeConsumerProject(project, tarball, {
    ...files,
    ...Object.fromEntries(examples),
    // The Azure stack gets a test of its own here (the README shows the AWS one).
    '__tests__/azure-print-stack.test.ts': [
      "import { Testing } from 'cdktf';",
      "import { AzurePrintStack } from '../azure-print-stack';",
      "it('synthesizes the Azure cluster with its guard blob', () => {",
      "  const json = JSON.parse(Testing.synth(new AzurePrintStack(Testing.app(), 'azure')));",
      '  expect(Object.keys(json.resource.azurerm_storage_blob)).toHaveLength(1);',
      '  expect(Object.keys(json.resource.azurerm_linux_virtual_machine_scale_set)).toHaveLength(1);',
      '});',
      '',
    ].join('\n'),
  });
  // --prefer-offline: everything comes from the npm cache `npm ci` filled, except metadata it lacks.
  timed('npm install (consumer)', () => run(project, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']));
}, 600_000);

afterAll(() => {
  console.log(`consumer figures:\n${Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a consumer project', () => {
  it('the README names the peers at the versions tested here', () => {
    const { install, files } = readmeFiles();
    for (const pkg of ['cdktf', 'constructs', '@cdktf/provider-aws', '@cdktf/provider-azurerm']) {
      const [major, minor] = installedVersion(pkg).split('.');
      expect(install).toMatch(new RegExp(`${pkg.replace('/', '\\/')}@[~^]${major}\\.${minor}\\.`));
    }
    expect(Object.keys(files).sort()).toEqual(['__tests__/print-stack.test.ts', 'azure-print-stack.ts', 'main.ts', 'print-stack.ts']);
  });

  it('gets the constructs (dist/lib, dist/guard, README, docs; no example) and both peers as single copies, and no provider it did not ask for nested', () => {
    const installed = readdirSync(join(project, 'node_modules', 'failover-constructs'));
    // the README's links resolve in the install (docs/); the examples (apps/) are not published
    expect(installed.sort()).toEqual(['README.md', 'dist', 'docs', 'package.json']);
    expect(readdirSync(join(project, 'node_modules', 'failover-constructs', 'dist')).sort()).toEqual(['guard', 'lib']);
    const nested = join(project, 'node_modules', 'failover-constructs', 'node_modules');
    const nestedNames = (() => {
      try {
        return readdirSync(nested);
      } catch {
        return [];
      }
    })();
    expect(nestedNames.filter((n) => ['cdktf', 'constructs', '@cdktf'].includes(n))).toEqual([]);
  });

  it('gets the failover-guard command, which runs without the guard libraries installed', () => {
    expect(readdirSync(join(project, 'node_modules')).filter((n) => ['pg', 'mysql2', 'pino', 'prom-client'].includes(n))).toEqual([]);
    expect(run(project, 'npx', ['failover-guard', '--version']).trim()).toBe(installedVersionOfThisPackage());
  });

  // ts-node (synth) and ts-jest (the tests) type-check the README's files with the project's
  // tsconfig, moduleResolution node (node10). The two resolutions that use `exports` are added
  // here: node16 over the whole project, so every TypeScript example of README.md and docs/*.md
  // compiles against what npm installed (test/docs checks them against lib/ in seconds), and
  // bundler over one file that imports every subpath.
  it('compiles every README and docs example with moduleResolution node16, and resolves every subpath with bundler too', () => {
    writeFileSync(
      join(project, 'subpaths.ts'),
      [
        "import { AwsFailoverCluster } from 'failover-constructs/aws';",
        "import { AzureFailoverCluster } from 'failover-constructs/azure';",
        "import { papercut, parseClusterSpec } from 'failover-constructs/spec';",
        "import { renderLinuxBootScript } from 'failover-constructs/boot';",
        'export const used = [AwsFailoverCluster, AzureFailoverCluster, papercut, parseClusterSpec, renderLinuxBootScript];',
        '',
      ].join('\n'),
    );
    timed('tsc (node16: the project, the docs examples, every subpath)', () =>
      run(project, 'npx', ['tsc', '-p', '.', '--noEmit', '--incremental', 'false', '--module', 'node16', '--moduleResolution', 'node16']),
    );
    timed('tsc (bundler: every subpath)', () =>
      run(project, 'npx', ['tsc', '--module', 'esnext', '--moduleResolution', 'bundler', '--noEmit', '--strict', '--skipLibCheck', '--types', 'node', 'subpaths.ts']),
    );
    rmSync(join(project, 'subpaths.ts'));
  });

  let guardKey: string;

  it("synthesizes with cdktf.json's app (ts-node main.ts, type-checked with moduleResolution node); the guard key is the hash of the binary this repository builds from source", () => {
    // given
    const app = (JSON.parse(readFileSync(join(project, 'cdktf.json'), 'utf8')) as { app: string }).app.split(' ');
    // when
    timed('synth (ts-node main.ts)', () => run(project, app[0], app.slice(1), { ...CACHE, CDKTF_OUTDIR: join(project, 'cdktf.out') }));
    // then
    const json = JSON.parse(readFileSync(join(project, 'cdktf.out', 'stacks', 'print', 'cdk.tf.json'), 'utf8'));
    const [object] = Object.values(json.resource.aws_s3_object) as Array<{ key: string }>;
    const fromSource = sha256OfFile(guardBinary('linux-x64', { cacheDir: TEST_GUARD_CACHE }));
    expect(object.key).toBe(`failover-guard/${fromSource}/failover-guard-linux-x64`);
    guardKey = object.key;
    const vpcIds = (Object.values(json.resource.aws_security_group) as Array<{ vpc_id?: string }>).map((g) => g.vpc_id);
    expect(new Set(vpcIds)).toEqual(new Set(['vpc-0123456789abcdef0']));
  });

  it('runs its Testing snapshot tests with ts-jest (type-checked, moduleResolution node); the snapshot has the same guard key as the synth', () => {
    // --ci=false: under CI=true jest would refuse to write the first snapshot; the second run
    // (--ci) must then match it, as the consumer's own CI would
    timed('jest (ts-jest, writes the snapshot)', () => run(project, 'npx', ['jest', '--runInBand', '--ci=false'], CACHE));
    timed('jest again (--ci: matches the snapshot)', () => run(project, 'npx', ['jest', '--runInBand', '--ci'], CACHE));
    const snapshot = readFileSync(join(project, '__tests__', '__snapshots__', 'print-stack.test.ts.snap'), 'utf8');
    expect(snapshot).toContain(guardKey);
    figures['snapshot sha256'] = createHash('sha256').update(snapshot).digest('hex').slice(0, 16);
  });
});
