/**
 * The public API reports in api/: one per package entry (package.json `exports`; `.` and `./spec`
 * share lib/spec, so they share a report). `npm run api` regenerates them; `npm run api -- --check`
 * (test/api-report.test.ts) fails when the exported surface differs from the checked-in reports.
 *
 * Declarations are emitted once for lib/ into .cache/api/ (inside the repository, so the
 * provider packages and cdktf resolve from node_modules), then API Extractor reads each entry.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'fs';
import { join, relative } from 'path';
import { Extractor, ExtractorConfig, ExtractorLogLevel, type IConfigFile } from '@microsoft/api-extractor';

const ROOT = join(__dirname, '..');
const CACHE = join(ROOT, '.cache', 'api');
const DTS = join(CACHE, 'dts');
export const REPORT_DIR = join(ROOT, 'api');
export const UPDATE_HINT = 'run `npm run api` and commit api/*.api.md (the diff is the change to the public surface)';

export interface ApiEntry {
  /** The lib/ folder behind the entry, e.g. `aws`. */
  readonly folder: string;
  /** The import paths that resolve to it, e.g. `failover-constructs/aws`. */
  readonly importPaths: readonly string[];
  /** Report file in api/. */
  readonly report: string;
}

/** The package's entries, read from package.json `exports` (types under dist/lib/<folder>/index.d.ts). */
export function apiEntries(): ApiEntry[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string | { types?: string }> };
  const byFolder = new Map<string, string[]>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const types = typeof target === 'string' ? undefined : target.types;
    const folder = types?.match(/^\.\/dist\/lib\/([\w-]+)\/index\.d\.ts$/)?.[1];
    if (!folder) continue;
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`]);
  }
  return [...byFolder].map(([folder, importPaths]) => ({ folder, importPaths, report: `${folder}.api.md` }));
}

export interface ApiReportResult {
  /** Reports whose content differs from the surface (or that are missing). */
  readonly changed: string[];
  /** Report files in api/ that no entry produces any more. */
  readonly stale: string[];
  /** API Extractor's other warnings and errors. */
  readonly messages: string[];
  /** Types the surface refers to that no entry exports (`entry: Name (file)`): a user cannot name them. */
  readonly unexported: string[];
}

/** Emits the declarations and runs API Extractor on every entry; `update` writes api/*.api.md. */
export function runApiReport(update: boolean): ApiReportResult {
  rmSync(DTS, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--emitDeclarationOnly', '--declarationMap', 'false', '--sourceMap', 'false', '--outDir', DTS], { cwd: ROOT, stdio: 'inherit' });
  mkdirSync(REPORT_DIR, { recursive: true });
  const entries = apiEntries();
  const changed: string[] = [];
  const messages: string[] = [];
  const forgotten: { entry: string; symbol: string; where: string }[] = [];
  for (const entry of entries) {
    const configObject: IConfigFile = {
      projectFolder: ROOT,
      mainEntryPointFilePath: join(DTS, 'lib', entry.folder, 'index.d.ts'),
      compiler: { overrideTsconfig: { compilerOptions: { strict: true, skipLibCheck: true, types: ['node'], moduleResolution: 'node', target: 'ES2022', lib: ['ES2022'] }, files: [join(DTS, 'lib', entry.folder, 'index.d.ts')] } },
      apiReport: { enabled: true, reportFolder: REPORT_DIR, reportTempFolder: join(CACHE, 'temp'), reportFileName: entry.report.replace(/\.api\.md$/, '') },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: true },
          // Release tags (@public/@beta) and TSDoc completeness are not this project's conventions.
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          'ae-undocumented': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          'ae-unresolved-link': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          // Listed after the run instead (see `unexported`): a type another entry exports is no gap.
          'ae-forgotten-export': { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: false },
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
      },
    };
    const config = ExtractorConfig.prepare({ configObject, configObjectFullPath: join(ROOT, 'api', 'api-extractor.json'), packageJsonFullPath: join(ROOT, 'package.json') });
    const result = Extractor.invoke(config, {
      localBuild: update,
      messageCallback: (message) => {
        const symbol = message.messageId === 'ae-forgotten-export' ? message.text.match(/symbol "([^"]+)"/)?.[1] : undefined;
        if (symbol) forgotten.push({ entry: entry.folder, symbol, where: relative(DTS, message.sourceFilePath ?? '').replace(/\.d\.ts$/, '.ts') });
        else if (!message.messageId.startsWith('console-') && (message.logLevel === ExtractorLogLevel.Warning || message.logLevel === ExtractorLogLevel.Error)) {
          messages.push(`${entry.folder}: ${message.formatMessageWithLocation(ROOT)}`);
        }
        message.handled = true;
      },
    });
    if (result.apiReportChanged) changed.push(entry.report);
  }
  const exported = new Set(entries.flatMap((e) => [...readFileSync(join(CACHE, 'temp', e.report), 'utf8').matchAll(/^export (?:declare )?(?:abstract )?(?:class|interface|type|function|const|enum|namespace) (\w+)/gm)].map((m) => m[1])));
  const unexported = [...new Set(forgotten.filter((f) => !exported.has(f.symbol)).map((f) => `${f.entry}: ${f.symbol} (${f.where})`))].sort();
  const produced = new Set(entries.map((e) => e.report));
  const stale = readdirSync(REPORT_DIR).filter((f) => f.endsWith('.api.md') && !produced.has(f));
  if (update) for (const f of stale) rmSync(join(REPORT_DIR, f));
  return { changed, stale: update ? [] : stale, messages, unexported };
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const result = runApiReport(!check);
  for (const m of result.messages) console.log(m);
  if (result.unexported.length) console.log(`Types the surface uses that no entry exports (users cannot name them):\n  ${result.unexported.join('\n  ')}`);
  for (const e of apiEntries()) console.log(`${e.importPaths.join(', ')} → ${relative(ROOT, join(REPORT_DIR, e.report))}${result.changed.includes(e.report) ? (check ? ' (differs)' : ' (updated)') : ''}`);
  if (check && (result.changed.length || result.stale.length)) {
    console.error(`The public API differs from api/ (${[...result.changed, ...result.stale].join(', ')}): ${UPDATE_HINT}.`);
    process.exit(1);
  }
  if (check && result.unexported.length) {
    console.error('Export those types from their entry (a user must be able to name every type the surface uses).');
    process.exit(1);
  }
  if (!existsSync(REPORT_DIR)) process.exit(1);
}
