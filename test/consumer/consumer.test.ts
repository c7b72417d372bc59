/**
 * New users' paths: `npm pack` this repository once (prepack builds dist/: the cdktf flavour,
 * the cdktn flavour generated from it, the guard bundle), then install the tarball into four
 * throwaway projects: cdktf and cdktn, each on TypeScript 5.9 and 7 (the cdktf one on 7 is
 * type-checked with 6 too). The cdktf 5.9 project is the one `cdktf init --template=typescript`
 * makes (moduleResolution node, ts-node, ts-jest); the others use docs/using-the-package.md's
 * setup (nodenext, `tsc && node main.js`, @swc/jest), the cdktn ones README's cdktn peers and
 * overrides. Each gets README's files (with cdktn's imports for cdktn) and every TypeScript
 * example of README.md and docs/*.md, type-checks them, checks every entry point under
 * `bundler`, synthesizes both stacks of README's main.ts with cdktf.json's app, and runs a
 * `Testing` snapshot test twice. Nothing is built in this repository for the consumers: their
 * guard binary is built at synth from the packed blob into the test cache. Prints each
 * project's install size and step times (`npm run bench:consumer` prints them alone).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'fs';
import { join } from 'path';
import * as ts from 'typescript';
import { sha256OfFile } from '../../lib/synth/guard-binary';
import { guardBinary } from '../../lib/synth/guard-build';
import { TEST_GUARD_CACHE } from '../harness/guard-cache';
import { type CombinationRun, combinations, figures, inPool, packOnce, ROOT, runCombination } from './combinations';
import { documentedCdktn, installedVersion, installLinePackages, readmeFiles, run } from './consumer-project';

jest.setTimeout(300_000);

/**
 * The projects live in the repository's git-ignored .cache/ and are reused by the next run
 * (npm resolves every tree again; only unchanged peers are not extracted again): deleting four
 * fresh node_modules (3 GB of small files) took longer than building them.
 */
const work = join(ROOT, '.cache', 'consumer');
const runs = new Map<string, CombinationRun>();
let packSeconds = 0;

beforeAll(async () => {
  const pack = join(work, 'pack');
  rmSync(pack, { recursive: true, force: true });
  mkdirSync(pack, { recursive: true });
  const started = Date.now();
  const tarball = packOnce(pack);
  packSeconds = (Date.now() - started) / 1000;
  for (const r of await inPool(combinations(), 2, (c) => runCombination(c, tarball, work))) runs.set(r.combination.name, r);
}, 1_500_000);

afterAll(() => {
  console.log(`consumer figures (npm pack ${packSeconds.toFixed(1)} s):\n${[...runs.values()].map((r) => `  ${figures(r)}`).join('\n')}`);
});

/** Every module specifier of the .js and .d.ts files under `dir`, with its file. */
function specifiersUnder(dir: string): Array<{ file: string; specifier: string }> {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(js|d\.ts)$/.test(f))
    .flatMap((f) => ts.preProcessFile(readFileSync(join(dir, f), 'utf8'), true, true).importedFiles.map((i) => ({ file: join(dir, f), specifier: i.fileName })));
}

function version(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

describe('the README', () => {
  it('names the cdktf peers at the versions tested here, and its project files', () => {
    const { install, files } = readmeFiles();
    const named = installLinePackages(install);
    for (const pkg of ['cdktf', 'constructs', '@cdktf/provider-aws', '@cdktf/provider-azurerm']) {
      const [major, minor] = installedVersion(pkg).split('.');
      expect(named[pkg]).toMatch(new RegExp(`^[~^]${major}\\.${minor}\\.`));
    }
    expect(Object.keys(files).sort()).toEqual(['__tests__/print-stack.test.ts', 'azure-print-stack.ts', 'main.ts', 'print-stack.ts']);
  });

  it('names the cdktn peers, each within the range package.json declares', () => {
    const { dependencies } = documentedCdktn();
    const peers = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies;
    expect(Object.keys(dependencies).sort()).toEqual(['@cdktn/provider-aws', '@cdktn/provider-azurerm', 'cdktn', 'constructs']);
    for (const pkg of ['cdktn', '@cdktn/provider-aws', '@cdktn/provider-azurerm']) expect(dependencies[pkg]).toBe(peers[pkg]);
  });
});

describe.each(combinations().map((c) => [c.name, c] as const))('a consumer project: %s', (name, c) => {
  const result = () => {
    const r = runs.get(name);
    if (!r) throw new Error(`${name} did not run`);
    return r;
  };
  const step = (stepName: string) => {
    const r = result();
    const s = r.steps.find((x) => x.name === stepName);
    if (!s) throw new Error(`${stepName} did not run: an earlier step failed:\n${r.steps.filter((x) => !x.ok).map((x) => x.output).join('\n')}`);
    return s;
  };
  const passes = (stepName: string) => {
    const s = step(stepName);
    if (!s.ok) throw new Error(s.output);
  };

  it('installs the tarball beside its peers (npm resolves them; no ERESOLVE)', () => {
    passes('install');
  });

  it("gets the package (dist/lib, dist/cdktn, dist/guard, README, docs; no example) and only its own flavour's peers, none nested", () => {
    passes('install');
    const modules = join(result().dir, 'node_modules');
    const installed = join(modules, 'failover-constructs');
    expect(readdirSync(installed).sort()).toEqual(['README.md', 'dist', 'docs', 'package.json']);
    expect(readdirSync(join(installed, 'dist')).sort()).toEqual(['cdktn', 'guard', 'lib']);
    const other = c.flavour === 'cdktf' ? ['cdktn', '@cdktn'] : ['cdktf', '@cdktf'];
    expect(readdirSync(modules).filter((n) => other.includes(n))).toEqual([]);
    const nested = (() => {
      try {
        return readdirSync(join(installed, 'node_modules'));
      } catch {
        return [];
      }
    })();
    expect(nested.filter((n) => ['cdktf', 'cdktn', 'constructs', '@cdktf', '@cdktn'].includes(n))).toEqual([]);
  });

  it("installs a flavour whose modules name only its own packages (skipLibCheck would hide a declaration's stray import)", () => {
    passes('install');
    const dist = join(result().dir, 'node_modules', 'failover-constructs', 'dist');
    const named = specifiersUnder(join(dist, c.flavour === 'cdktn' ? 'cdktn' : 'lib'));
    const foreign = c.flavour === 'cdktn' ? /^(cdktf|@cdktf\/)/ : /^(cdktn|@cdktn\/)/;
    expect(named.filter((n) => foreign.test(n.specifier)).map((n) => `${n.file}: ${n.specifier}`)).toEqual([]);
    expect(named.some((n) => n.specifier === c.flavour)).toBe(true);
  });

  it('gets the failover-guard command, which runs without the guard libraries installed', () => {
    passes('install');
    const modules = join(result().dir, 'node_modules');
    expect(readdirSync(modules).filter((n) => ['pg', 'mysql2', 'pino', 'prom-client'].includes(n))).toEqual([]);
    expect(run(result().dir, 'npx', ['failover-guard', '--version']).trim()).toBe(version());
  });

  it(`compiles README's files and every docs example (${c.setup === 'docs' ? 'nodenext' : 'node16'}), and every entry point under bundler`, () => {
    passes('tsc');
    passes('tsc bundler');
    for (const v of c.alsoTypeCheckWith ?? []) {
      passes(`tsc ${v}`);
      passes(`tsc ${v} bundler`);
    }
  });

  it("synthesizes both stacks with cdktf.json's app; the guard key is the hash of the binary this repository builds from source", () => {
    // given
    passes('synth');
    const stacks = join(result().dir, 'cdktf.out', 'stacks');
    // when
    const aws = JSON.parse(readFileSync(join(stacks, 'print', 'cdk.tf.json'), 'utf8'));
    const azure = JSON.parse(readFileSync(join(stacks, 'print-azure', 'cdk.tf.json'), 'utf8'));
    // then
    const [object] = Object.values(aws.resource.aws_s3_object) as Array<{ key: string }>;
    const fromSource = sha256OfFile(guardBinary('linux-x64', { cacheDir: TEST_GUARD_CACHE }));
    expect(object.key).toBe(`failover-guard/${fromSource}/failover-guard-linux-x64.gz`);
    const vpcIds = (Object.values(aws.resource.aws_security_group) as Array<{ vpc_id?: string }>).map((g) => g.vpc_id);
    expect(new Set(vpcIds)).toEqual(new Set(['vpc-0123456789abcdef0']));
    expect(Object.keys(azure.resource.azurerm_linux_virtual_machine_scale_set)).toHaveLength(1);
    expect([aws.terraform.required_version, azure.terraform.required_version]).toEqual(['>= 1.11.0', '>= 1.11.0']);
  });

  it('runs its Testing snapshot tests: the snapshot is written, then matched with --ci, and has the same guard key as the synth', () => {
    passes('jest');
    passes('jest --ci');
    const snapshot = readFileSync(join(result().dir, '__tests__', '__snapshots__', 'print-stack.test.ts.snap'), 'utf8');
    const aws = JSON.parse(readFileSync(join(result().dir, 'cdktf.out', 'stacks', 'print', 'cdk.tf.json'), 'utf8'));
    const [object] = Object.values(aws.resource.aws_s3_object) as Array<{ key: string }>;
    expect(snapshot).toContain(object.key);
  });
});
