/**
 * The consumer projects test/consumer builds from one packed tarball: cdktf and cdktn, on
 * TypeScript 5.9 and 7 (and 6, type-check only), and the steps each goes through. Shared by
 * the test (which asserts on every step) and `npm run bench:consumer` (which prints the
 * figures). Projects run two at a time: the machine has two cores, and an install waits on
 * the disk while a compile uses a core.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { blockFiles, docPages, tsBlocks } from '../docs/doc-pages';
import { TEST_GUARD_CACHE } from '../harness/guard-cache';
import { type ConsumerProject, documentedSetup, installedVersion, isCdktnSource, readmeFiles, run, runAsync, writeConsumerProject } from './consumer-project';

export const ROOT = join(__dirname, '..', '..');
export const GUARD_CACHE_ENV = { FAILOVER_CONSTRUCTS_CACHE: TEST_GUARD_CACHE };

export interface Combination extends ConsumerProject {
  readonly name: string;
  /** Other TypeScript versions the installed project is type-checked with (tsc only, fetched by npx). */
  readonly alsoTypeCheckWith?: readonly string[];
}

/** TypeScript 6, type-checked in the cdktf TypeScript 7 project (its setup is the same; only tsc differs). */
export const TYPESCRIPT_6 = '6.0.3';

export function combinations(): Combination[] {
  const ts59 = installedVersion('typescript');
  const ts7 = documentedSetup().devDependencies.typescript;
  return [
    { name: 'cdktf, TypeScript 5.9, as cdktf init makes it', flavour: 'cdktf', setup: 'cdktf-init', typescript: ts59 },
    { name: 'cdktn, TypeScript 7', flavour: 'cdktn', setup: 'docs', typescript: ts7 },
    { name: 'cdktf, TypeScript 7 (and 6)', flavour: 'cdktf', setup: 'docs', typescript: ts7, alsoTypeCheckWith: [TYPESCRIPT_6] },
    { name: 'cdktn, TypeScript 5.9', flavour: 'cdktn', setup: 'docs', typescript: ts59 },
  ];
}

/** Packs this repository once (prepack builds dist/, both flavours, and the guard bundle); the tarball's path. */
export function packOnce(work: string): string {
  const packed = run(ROOT, 'npm', ['pack', '--pack-destination', work, '--silent'], GUARD_CACHE_ENV).trim().split('\n').pop()!;
  return join(work, packed);
}

/** A test-only file: the Azure stack synthesized with cdktf's validations on, its resources the flavour's own classes. */
const AZURE_TEST = [
  "import { TerraformResource, Testing } from 'cdktf';",
  "import { AzurePrintStack } from '../azure-print-stack';",
  "it('synthesizes the Azure cluster with its guard blob, validations on, from resources of this flavour', () => {",
  "  const stack = new AzurePrintStack(Testing.app(), 'azure');",
  '  const json = JSON.parse(Testing.synth(stack, true));',
  '  expect(Object.keys(json.resource.azurerm_storage_blob)).toHaveLength(1);',
  '  expect(Object.keys(json.resource.azurerm_linux_virtual_machine_scale_set)).toHaveLength(1);',
  '  expect(stack.node.findAll().filter((c) => c instanceof TerraformResource).length).toBeGreaterThan(20);',
  '});',
  '',
].join('\n');

/** Every entry point, imported under `bundler` resolution by a file of its own (written as cdktf; a cdktn project renames it). */
const SUBPATHS = [
  "import { AwsFailoverCluster } from 'failover-constructs/aws';",
  "import { AzureFailoverCluster } from 'failover-constructs/azure';",
  "import { papercut, parseClusterSpec } from 'failover-constructs/spec';",
  "import { renderLinuxBootScript } from 'failover-constructs/boot';",
  'export const used = [AwsFailoverCluster, AzureFailoverCluster, papercut, parseClusterSpec, renderLinuxBootScript];',
  '',
].join('\n');

const BUNDLER_TSCONFIG = JSON.stringify({ compilerOptions: { module: 'esnext', moduleResolution: 'bundler', noEmit: true, strict: true, skipLibCheck: true, types: ['node'] }, files: ['subpaths.ts'] }, null, 2);

/**
 * The project's files: README's, the Azure test, the docs' other examples (those of its flavour;
 * cdktf ones become cdktn ones), the bundler check. README's project files are the project's
 * own, not repeated among the examples (jest would run their test twice).
 */
function projectFiles(c: Combination): Record<string, string> {
  const readme = readmeFiles().files;
  const examples = [...blockFiles(docPages().flatMap(tsBlocks))].filter(
    ([, block]) => !(block.page === 'README.md' && block.file in readme) && (c.flavour === 'cdktn' || !isCdktnSource(block.text)),
  );
  return {
    ...readme,
    '__tests__/azure-print-stack.test.ts': AZURE_TEST,
    ...Object.fromEntries(examples.map(([path, block]) => [`doc-examples/${path}`, block.text])),
    'subpaths.ts': SUBPATHS,
  };
}

export interface Step {
  readonly name: string;
  readonly seconds: number;
  /** The command's output, or its error with the output. */
  readonly output: string;
  readonly ok: boolean;
}

export interface CombinationRun {
  readonly combination: Combination;
  readonly dir: string;
  readonly steps: Step[];
  /** node_modules after the install, in bytes (du). */
  installBytes?: number;
}

/**
 * Empties a project folder of an earlier run but for its node_modules, less this package: npm
 * then resolves the whole tree again from package.json (no lockfile) and extracts the new
 * tarball, but need not extract the unchanged peers again, nor delete them (3 GB in 4 projects).
 */
function reuseFolder(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) if (entry !== 'node_modules') rmSync(join(dir, entry), { recursive: true, force: true });
  rmSync(join(dir, 'node_modules', 'failover-constructs'), { recursive: true, force: true });
}

/** The folder of a combination's project in `work`. */
export function projectDir(c: Combination, work: string): string {
  return join(work, `${c.flavour}-ts${c.typescript.replace(/[^0-9.]/g, '')}`);
}

/**
 * Runs one project's steps in order, each timed; stops at the first that fails (the rest are
 * not run). A project folder left by an earlier run is reused (see reuseFolder): its install
 * is then quicker than a new user's, which `npm run bench:consumer` measures in new folders.
 */
export async function runCombination(c: Combination, tarball: string, work: string): Promise<CombinationRun> {
  const dir = projectDir(c, work);
  reuseFolder(dir);
  const result: CombinationRun = { combination: c, dir, steps: [] };
  const step = async (name: string, fn: () => Promise<string> | string): Promise<boolean> => {
    const started = Date.now();
    let output: string;
    let ok = true;
    try {
      output = await fn();
    } catch (e) {
      output = (e as Error).message;
      ok = false;
    }
    result.steps.push({ name, seconds: (Date.now() - started) / 1000, output, ok });
    return ok;
  };
  const npx = (...args: string[]) => runAsync(dir, 'npx', args, GUARD_CACHE_ENV);
  const steps: Array<[string, () => Promise<string> | string]> = [
    ['write', () => (writeConsumerProject(dir, tarball, projectFiles(c), c), '')],
    // --prefer-offline: from npm's cache where it has the package (warm after the first run)
    ['install', () => runAsync(dir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'])],
    ['size', () => ((result.installBytes = Number(execFileSync('du', ['-sb', join(dir, 'node_modules')], { encoding: 'utf8' }).split('\t')[0])), '')],
    // the project, README's files and every docs example: nodenext (docs setup) or node16 over cdktf init's tsconfig
    ['tsc', () => (c.setup === 'docs' ? npx('tsc', '-p', '.', '--noEmit') : npx('tsc', '-p', '.', '--noEmit', '--incremental', 'false', '--module', 'node16', '--moduleResolution', 'node16'))],
    ['tsc bundler', () => (writeFileSync(join(dir, 'tsconfig.bundler.json'), BUNDLER_TSCONFIG), npx('tsc', '-p', 'tsconfig.bundler.json'))],
    ...(c.alsoTypeCheckWith ?? []).flatMap((v): Array<[string, () => Promise<string>]> => [
      [`tsc ${v}`, () => npx('-y', '-p', `typescript@${v}`, 'tsc', '-p', '.', '--noEmit')],
      [`tsc ${v} bundler`, () => npx('-y', '-p', `typescript@${v}`, 'tsc', '-p', 'tsconfig.bundler.json')],
    ]),
    // cdktf.json's app, as `cdktf synth` runs it (both stacks of README's main.ts)
    ['synth', () => runAsync(dir, 'sh', ['-c', (JSON.parse(readFileSync(join(dir, 'cdktf.json'), 'utf8')) as { app: string }).app], { ...GUARD_CACHE_ENV, CDKTF_OUTDIR: join(dir, 'cdktf.out') })],
    // --ci=false: under CI=true jest would refuse to write the first snapshot; the second run (--ci) must match it
    ['jest', () => npx('jest', '--runInBand', '--ci=false')],
    ['jest --ci', () => npx('jest', '--runInBand', '--ci')],
  ];
  for (const [name, fn] of steps) if (!(await step(name, fn))) break;
  return result;
}

/** Runs `items` through `fn`, at most `limit` at a time, results in order. */
export async function inPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The figures of one run: install size and the time of each step. */
export function figures(r: CombinationRun): string {
  const size = r.installBytes === undefined ? '?' : `${(r.installBytes / 1e6).toFixed(0)} MB`;
  return `${r.combination.name}: node_modules ${size}; ${r.steps.filter((s) => s.name !== 'write' && s.name !== 'size').map((s) => `${s.name} ${s.seconds.toFixed(1)} s${s.ok ? '' : ' FAILED'}`).join(', ')}`;
}
