import { execFileSync } from 'child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';

const ROOT = join(__dirname, '..', '..');

/** The files the README's "Use it in your own project" section shows, by the `// <file>` line that opens each block. */
export function readmeFiles(readme = readFileSync(join(ROOT, 'README.md'), 'utf8')): { install: string; files: Record<string, string> } {
  const start = readme.indexOf('## Use it in your own project');
  if (start < 0) throw new Error('README has no "Use it in your own project" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));
  const install = blocks.find((b) => b.lang === 'sh')?.body.trim() ?? '';
  const files: Record<string, string> = {};
  for (const b of blocks.filter((b) => b.lang === 'ts')) {
    const name = /^\/\/ (\S+\.ts)\n/.exec(b.body)?.[1];
    if (name) files[name] = b.body;
  }
  return { install, files };
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

/**
 * Writes a project the way `cdktf init --template=typescript` makes one: its own package.json
 * (the tarball and the peers as dependencies, TypeScript, ts-node, jest and ts-jest as dev
 * dependencies), a CommonJS tsconfig with `moduleResolution: node`, cdktf.json, a jest config,
 * and the README's files.
 */
export function writeConsumerProject(dir: string, tarball: string, files: Record<string, string>): void {
  const peers = ['cdktf', 'constructs', '@cdktf/provider-aws', '@cdktf/provider-azurerm'];
  const dev = ['typescript', 'jest', 'ts-jest', '@types/jest', '@types/node'];
  const pin = (names: string[]) => Object.fromEntries(names.map((n) => [n, installedVersion(n)]));
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
  const write = (name: string, text: string) => {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  };
  write(
    'package.json',
    json({
      name: 'print-infra',
      version: '1.0.0',
      private: true,
      main: 'main.js',
      scripts: { synth: 'cdktf synth', test: 'jest' },
      dependencies: { 'failover-constructs': `file:${tarball}`, ...pin(peers) },
      // ts-node is what cdktf init's cdktf.json runs the app with; not in this repository, so pinned here.
      devDependencies: { ...pin(dev), 'ts-node': '10.9.2' },
    }),
  );
  write(
    'tsconfig.json',
    json({
      compilerOptions: CONSUMER_COMPILER_OPTIONS,
      include: ['**/*.ts'],
      exclude: ['node_modules', 'cdktf.out'],
    }),
  );
  write('cdktf.json', json({ language: 'typescript', app: 'npx ts-node main.ts', projectId: 'print-infra', sendCrashReports: 'false', terraformProviders: [], terraformModules: [], context: {} }));
  write('jest.config.js', "module.exports = { testEnvironment: 'node', roots: ['<rootDir>/__tests__'], testMatch: ['**/*.test.ts'], transform: { '^.+\\\\.ts$': 'ts-jest' } };\n");
  for (const [name, text] of Object.entries(files)) write(name, text);
}

/** Runs a command in `cwd` with npm's own variables (from an enclosing `npm test`) removed, so they cannot redirect it. */
export function run(cwd: string, command: string, args: string[], env: Record<string, string> = {}, timeout = 240_000): string {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
  try {
    return execFileSync(command, args, { cwd, env: { ...clean, CHECKPOINT_DISABLE: '1', ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout, maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}
