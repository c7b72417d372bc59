/**
 * Every TypeScript example of README.md and docs/*.md compiles against the sources, as a user's
 * project compiles it against the package: `failover-constructs/<entry>` resolves to lib/ through
 * `paths` made from package.json `exports` (so only the published entry points resolve), with the
 * strict options of a `cdktf init` project (test/consumer/consumer-project.ts). One TypeScript
 * program for all blocks, checked block by block (the sources only as far as the blocks use them),
 * so this costs seconds; test/consumer does the same against the packed package.
 * Also: every relative link of those pages points at a file (and heading) that exists.
 * @tier unit (it starts no program: consumer-project gives it only the compiler options)
 */
import { existsSync, readFileSync } from 'fs';
import { dirname, join, normalize } from 'path';
import * as ts from 'typescript';
import { CONSUMER_COMPILER_OPTIONS } from '../consumer/consumer-project';
import { blockFiles, docPages, ROOT, tsBlocks, type CodeBlock, type DocPage } from './doc-pages';

/**
 * `failover-constructs[/entry]` → the source folder of that entry, from package.json `exports`:
 * the entries compiled from lib/ (dist/lib), or (`flavour: 'cdktn'`) the CDK Terrain entries
 * generated from lib/ at build (dist/cdktn/<folder> from lib/<folder>).
 */
function publicEntryPaths(flavour: 'cdktf' | 'cdktn' = 'cdktf'): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, { types?: string }> };
  const paths: Record<string, string[]> = {};
  const built = flavour === 'cdktf' ? './dist/lib/' : './dist/cdktn/';
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (!target.types?.startsWith(built)) continue; // ./package.json, the other flavour
    const source = `./lib/${target.types.slice(built.length).replace(/\/index\.d\.ts$/, '')}`;
    paths[subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`] = [source];
  }
  return paths;
}

/**
 * A CDK Terrain example is checked against the sources with the flavour build's renames undone
 * (`cdktn` → cdktf, `@cdktn/*` → `@cdktf/*`): cdktn is not installed here; test/consumer
 * compiles the same blocks against the real cdktn.
 */
const CDKTN_AS_CDKTF: Record<string, string[]> = {
  cdktn: ['./node_modules/cdktf'],
  'cdktn/*': ['./node_modules/cdktf/*'],
  '@cdktn/*': ['./node_modules/@cdktf/*'],
};

interface Problem {
  readonly at: string;
  readonly code: number;
  readonly message: string;
}

/** Type-checks the blocks of `pages` in one program; the problems, each at its page and line. */
function typeCheck(pages: readonly DocPage[]): { problems: Problem[]; blocks: number } {
  const files = blockFiles(pages.flatMap(tsBlocks));
  // virtual files inside the repository, so `cdktf`, the providers and @types resolve from its node_modules
  const base = join(ROOT, '.doc-examples');
  const virtual = new Map([...files].map(([path, block]) => [join(base, path), block]));
  const options: ts.CompilerOptions = {
    ...ts.convertCompilerOptionsFromJson(CONSUMER_COMPILER_OPTIONS, ROOT).options,
    noEmit: true,
    incremental: false,
    types: ['node', 'jest'],
    baseUrl: ROOT,
    paths: { ...publicEntryPaths(), ...publicEntryPaths('cdktn'), ...CDKTN_AS_CDKTF },
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile, directoryExists } = host;
  const folders = new Set([...virtual.keys()].flatMap((f) => [dirname(f), dirname(dirname(f))]));
  host.fileExists = (f) => virtual.has(f) || fileExists(f);
  host.directoryExists = (d) => folders.has(d) || (directoryExists?.(d) ?? true);
  host.readFile = (f) => virtual.get(f)?.text ?? readFile(f);
  host.getSourceFile = (f, language, onError, create) => {
    const block = virtual.get(f);
    return block ? ts.createSourceFile(f, block.text, language) : getSourceFile(f, language, onError, create);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const problems: Problem[] = [];
  for (const [path, block] of virtual) {
    const source = program.getSourceFile(path)!;
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      problems.push({ at: `${block.page}:${block.line + line}`, code: d.code, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') });
    }
  }
  return { problems, blocks: virtual.size };
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function headingsOf(text: string): Set<string> {
  const out = new Set<string>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fence = !fence;
    const m = !fence && /^#{1,6} (.*)$/.exec(line);
    if (m) out.add(anchor(m[1]));
  }
  return out;
}

/** Relative links (`](path)`, `](path#anchor)`, `](#anchor)`) that point at nothing. */
function brokenLinks(page: DocPage): string[] {
  const broken: string[] = [];
  const prose = page.text.replace(/```[\s\S]*?```/g, '');
  for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
    const [file, hash] = target.split('#');
    const path = file ? normalize(join(dirname(page.path), file)) : page.path;
    if (!existsSync(join(ROOT, path))) broken.push(`${page.path}: ${target} (no ${path})`);
    else if (hash !== undefined && path.endsWith('.md') && !headingsOf(readFileSync(join(ROOT, path), 'utf8')).has(hash)) broken.push(`${page.path}: ${target} (no heading #${hash} in ${path})`);
  }
  return broken;
}

const BROKEN_PAGE: DocPage = {
  path: 'docs/not-a-page.md',
  text: [
    'An example that must not compile, checked in the same program as the real pages:',
    '```ts',
    "import { AwsFailoverCluster, AwsNoSuchConstruct } from 'failover-constructs/aws';",
    "import { AwsDatabase } from 'failover-constructs/aws/aws-database';",
    'export const parts = [AwsFailoverCluster, AwsNoSuchConstruct, AwsDatabase];',
    '```',
    '',
  ].join('\n'),
};

describe('the documentation', () => {
  const pages = docPages();
  const { problems, blocks } = typeCheck([...pages, BROKEN_PAGE]);

  it('has TypeScript examples on the pages that show code', () => {
    const withCode = new Set(pages.flatMap(tsBlocks).map((b: CodeBlock) => b.page));
    expect([...withCode].sort()).toEqual(expect.arrayContaining(['README.md', 'docs/aws.md', 'docs/azure.md', 'docs/boot-scripts.md']));
    expect(blocks).toBeGreaterThanOrEqual(8);
  });

  it('compiles every ```ts block of README.md and docs/*.md against lib/ through the public entry points', () => {
    expect(problems.filter((p) => !p.at.startsWith(BROKEN_PAGE.path)).map((p) => `${p.at}: TS${p.code} ${p.message}`)).toEqual([]);
  });

  it('reports, at its page and line, a name the package does not export and a path that is not an entry point', () => {
    expect(problems.filter((p) => p.at.startsWith(BROKEN_PAGE.path)).map((p) => [p.at, p.code])).toEqual([
      ['docs/not-a-page.md:3', 2305], // Module has no exported member 'AwsNoSuchConstruct'
      ['docs/not-a-page.md:4', 2307], // Cannot find module 'failover-constructs/aws/aws-database'
    ]);
  });

  it('links only to files and headings that exist', () => {
    expect(pages.flatMap(brokenLinks)).toEqual([]);
  });

  it('names only repository files that exist (`lib/…`, `test/…`, `scripts/…`, `apps/…` in backticks)', () => {
    const named = pages.flatMap((page) =>
      [...page.text.matchAll(/`((?:lib|test|scripts|apps)\/[A-Za-z0-9_./-]+)`/g)].map((m) => ({ page: page.path, path: m[1] })),
    );
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !existsSync(join(ROOT, n.path))).map((n) => `${n.page}: ${n.path}`)).toEqual([]);
  });

  it("the repository's tsconfig paths (the examples' imports) are exactly the package's entry points", () => {
    const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile).config as { compilerOptions: { paths: Record<string, string[]> } };
    expect(config.compilerOptions.paths).toEqual(publicEntryPaths());
  });
});
