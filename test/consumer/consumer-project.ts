import { execFile, execFileSync } from 'child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { cdktnSpecifier } from '../../scripts/build-cdktn';

const ROOT = join(__dirname, '..', '..');

/** One `## <title>` section of a page (README.md by default), up to the next `## `. */
export function pageSection(title: string, page = 'README.md'): string {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const start = text.indexOf(`## ${title}\n`);
  if (start < 0) throw new Error(`${page} has no "${title}" section`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The ```<lang> blocks of a section, in order. */
export function codeBlocks(section: string, lang: string): string[] {
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].filter((m) => m[1] === lang).map((m) => m[2]);
}

/** The files the README's "Use it in your own project" section shows, by the `// <file>` line that opens each block. */
export function readmeFiles(readme?: string): { install: string; files: Record<string, string> } {
  const section = readme === undefined ? pageSection('Use it in your own project') : readme.slice(readme.indexOf('## Use it in your own project'));
  const install = codeBlocks(section, 'sh')[0]?.trim() ?? '';
  const files: Record<string, string> = {};
  for (const body of codeBlocks(section, 'ts')) {
    const name = /^\/\/ (\S+\.ts)\n/.exec(body)?.[1];
    if (name) files[name] = body;
  }
  return { install, files };
}

/** `npm install [--save-dev] a@1 @b/c@^2 …  # comment` → { a: '1', '@b/c': '^2' } (the tarball path left out). */
export function installSpecs(line: string): Record<string, string> {
  const words = line.trim().replace(/#.*$/, '').trim().split(/\s+/).slice(2);
  const specs: Record<string, string> = {};
  for (const word of words.filter((w) => !w.startsWith('-') && !w.endsWith('.tgz'))) {
    const at = word.lastIndexOf('@');
    if (at <= 0) throw new Error(`${word}: not name@range in "${line}"`);
    specs[word.slice(0, at)] = word.slice(at + 1);
  }
  return specs;
}

/** The packages and ranges a README install line names, its `# Azure: …` comment included. */
export function installLinePackages(line: string): Record<string, string> {
  const azure = /# Azure: (.*)$/.exec(line.trim())?.[1] ?? '';
  return { ...installSpecs(line), ...(azure ? installSpecs(`npm install ${azure}`) : {}) };
}

/** The version of a package installed in this repository (the consumer asks for exactly it, so npm's cache has it). */
export function installedVersion(pkg: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The compiler options `cdktf init --template=typescript` writes (CommonJS, `moduleResolution: node`, strict). */
export const CONSUMER_COMPILER_OPTIONS = {
  alwaysStrict: true,
  declaration: true,
  experimentalDecorators: true,
  inlineSourceMap: true,
  inlineSources: true,
  lib: ['es2018'],
  module: 'CommonJS',
  moduleResolution: 'node',
  noEmitOnError: true,
  noFallthroughCasesInSwitch: true,
  noImplicitAny: true,
  noImplicitReturns: true,
  noImplicitThis: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  resolveJsonModule: true,
  strict: true,
  strictNullChecks: true,
  strictPropertyInitialization: true,
  stripInternal: true,
  target: 'ES2018',
  incremental: true,
  skipLibCheck: true,
};

/** Which cdktf the consumer builds with: cdktf itself, or its continuation CDK Terrain. */
export type Flavour = 'cdktf' | 'cdktn';

/**
 * How the consumer compiles, synthesizes and tests: `cdktf-init` is the project `cdktf init
 * --template=typescript` makes (node10 resolution, ts-node app, ts-jest; TypeScript 5.9 only);
 * `docs` is docs/using-the-package.md's setup for TypeScript 5.9, 6 and 7 (nodenext, `tsc &&
 * node main.js`, @swc/jest).
 */
export type Setup = 'cdktf-init' | 'docs';

/** A module specifier as a cdktn project writes it: cdktn's packages, and this package's cdktn entry points. */
export function cdktnImport(specifier: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  const entry = specifier.startsWith(`${pkg.name}/`) ? `./cdktn/${specifier.slice(pkg.name.length + 1)}` : undefined;
  if (entry && entry in pkg.exports) return `${pkg.name}/${entry.slice(2)}`;
  return cdktnSpecifier(specifier) ?? specifier;
}

/** TypeScript source with every quoted import of cdktf (its providers, this package's cdktf entry points) as a cdktn project writes it. */
export function toCdktnSource(text: string): string {
  return text.replace(/(from |import\(|require\()(['"])([^'"]+)\2/g, (_, lead: string, quote: string, spec: string) => `${lead}${quote}${cdktnImport(spec)}${quote}`);
}

/** Whether a docs example is written for cdktn (imports cdktn, a @cdktn provider or a cdktn entry point). */
export function isCdktnSource(text: string): boolean {
  return /(from |import\(|require\()['"](cdktn|@cdktn\/|failover-constructs\/cdktn\/)/.test(text);
}

/** The setup docs/using-the-package.md shows for TypeScript 5.9, 6 and 7: its tsconfig, jest config, app command and dev dependencies. */
export function documentedSetup(): { tsconfig: string; jestConfig: string; app: string; test: string; devDependencies: Record<string, string> } {
  const section = pageSection('TypeScript 5.9, 6 and 7', 'docs/using-the-package.md');
  const file = (lang: string, name: string) => {
    const body = codeBlocks(section, lang).find((b) => b.startsWith(`// ${name}\n`));
    if (!body) throw new Error(`docs/using-the-package.md shows no ${name}`);
    return body;
  };
  const quoted = (key: string) => {
    const value = new RegExp(`\`"${key}": "([^"]+)"\``).exec(section)?.[1];
    if (!value) throw new Error(`docs/using-the-package.md names no "${key}"`);
    return value;
  };
  return { tsconfig: file('jsonc', 'tsconfig.json'), jestConfig: file('js', 'jest.config.js'), app: quoted('app'), test: quoted('test'), devDependencies: installSpecs(codeBlocks(section, 'sh')[0] ?? '') };
}

/** The cdktn project's peers and the `overrides` README's "On CDK Terrain" section shows. */
export function documentedCdktn(): { dependencies: Record<string, string>; overrides: unknown } {
  const section = pageSection('On CDK Terrain (cdktn)');
  const install = codeBlocks(section, 'sh')[0] ?? '';
  const json = codeBlocks(section, 'json').map((b) => JSON.parse(b) as { overrides?: unknown }).find((b) => b.overrides);
  if (!json) throw new Error('README\'s "On CDK Terrain (cdktn)" section shows no overrides');
  return { dependencies: installLinePackages(install), overrides: json.overrides };
}

export interface ConsumerProject {
  readonly flavour: Flavour;
  readonly setup: Setup;
  /** The TypeScript version the project installs. */
  readonly typescript: string;
}

/**
 * Writes a consumer project: package.json (the tarball and the flavour's peers as dependencies,
 * the setup's dev dependencies), tsconfig.json, cdktf.json, jest.config.js, and `files` (the
 * README's, as they are for cdktf, with cdktn's imports for cdktn). The cdktf peers are the
 * versions installed in this repository, so npm's cache has them; the cdktn ones are README's.
 */
export function writeConsumerProject(dir: string, tarball: string, files: Record<string, string>, project: ConsumerProject): void {
  const pin = (names: string[]) => Object.fromEntries(names.map((n) => [n, installedVersion(n)]));
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
  const write = (name: string, text: string) => {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  };
  const cdktn = project.flavour === 'cdktn' ? documentedCdktn() : undefined;
  const peers = cdktn ? cdktn.dependencies : pin(['cdktf', 'constructs', '@cdktf/provider-aws', '@cdktf/provider-azurerm']);
  const setup = project.setup === 'docs' ? documentedSetup() : undefined;
  const devDependencies = setup
    ? { ...setup.devDependencies, typescript: project.typescript }
    : // ts-node is what cdktf init's cdktf.json runs the app with; not in this repository, so pinned here.
      { ...pin(['jest', 'ts-jest', '@types/jest', '@types/node']), typescript: project.typescript, 'ts-node': '10.9.2' };
  write(
    'package.json',
    json({
      name: 'print-infra',
      version: '1.0.0',
      private: true,
      main: 'main.js',
      scripts: { synth: `${project.flavour} synth`, test: setup?.test ?? 'jest' },
      dependencies: { 'failover-constructs': `file:${tarball}`, ...peers },
      devDependencies,
      ...(cdktn ? { overrides: cdktn.overrides } : {}),
    }),
  );
  write(
    'tsconfig.json',
    setup?.tsconfig ??
      json({
        compilerOptions: CONSUMER_COMPILER_OPTIONS,
        include: ['**/*.ts'],
        exclude: ['node_modules', 'cdktf.out'],
      }),
  );
  const app = setup?.app ?? 'npx ts-node main.ts';
  write('cdktf.json', json({ language: 'typescript', app, projectId: 'print-infra', sendCrashReports: 'false', terraformProviders: [], terraformModules: [], context: {} }));
  write(
    'jest.config.js',
    setup?.jestConfig ?? "module.exports = { testEnvironment: 'node', roots: ['<rootDir>/__tests__'], testMatch: ['**/*.test.ts'], transform: { '^.+\\\\.ts$': 'ts-jest' } };\n",
  );
  for (const [name, text] of Object.entries(files)) write(name, cdktn ? toCdktnSource(text) : text);
}

/** The environment without npm's own variables (from an enclosing `npm test`), so they cannot redirect a command. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
  return { ...clean, CHECKPOINT_DISABLE: '1', ...env };
}

/** Runs a command in `cwd` with npm's own variables removed; its output, or an error with the output. */
export function run(cwd: string, command: string, args: string[], env: Record<string, string> = {}, timeout = 240_000): string {
  try {
    return execFileSync(command, args, { cwd, env: cleanEnv(env), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout, maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** `run`, without blocking: other commands (another consumer project's) go on meanwhile. */
export function runAsync(cwd: string, command: string, args: string[], env: Record<string, string> = {}, timeout = 480_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: cleanEnv(env), encoding: 'utf8', timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
