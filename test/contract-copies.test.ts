import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import * as ts from 'typescript';

// Each contract shared by spec, boot, guard, aws, azure and the scripts has one home in lib/contracts or lib/spec.
// This scan fails when a copy of one reappears in the code of lib/, scripts/ or apps/: it reads
// string, template, regular-expression and number literals (never comments), so prose in a doc
// comment is free to name an endpoint. test/ is not scanned on purpose: a test spells the
// expected value out, so that a contract changed by mistake fails it instead of following along.

const root = join(__dirname, '..');
const SCANNED = ['lib', 'scripts', 'apps'];

interface Rule {
  readonly what: string;
  /** The one file allowed to spell the contract out. */
  readonly home: string;
  /** True when a literal's text (a string, template part or regex) copies the contract. */
  readonly text?: RegExp;
  readonly number?: number;
  /** Strings one of which any copy's source must contain: files with none are not parsed. */
  readonly hints: readonly string[];
}

const SCHEME = '(aws-secretsmanager|azure-keyvault|file|env)';
const TIMINGS = 'failOverIntervalSecs|startupTimeoutSecs|renewPeriodSecs|queryTimeoutSecs|renewDeadlineSecs|stopTimeoutSecs';

export const RULES: readonly Rule[] = [
  { what: 'guard port', home: 'lib/contracts/guard-endpoints.ts', number: 9180, text: /(^|\D)9180(\D|$)/, hints: ['9180'] },
  // an endpoint used as a URL path: the whole literal, after a host, port or variable, or after a GET
  { what: 'guard endpoint', home: 'lib/contracts/guard-endpoints.ts', text: /(^|[\w}$:]|\bGET )\/(health|live|metrics|step-down)(?![\w-])/, hints: ['/health', '/live', '/metrics', '/step-down'] },
  { what: 'cdktf token encoding', home: 'lib/contracts/tokens.ts', text: /TfToken/, hints: ['TfToken'] },
  { what: 'database URL TLS parameter', home: 'lib/contracts/database-url.ts', text: /(sslmode=require|ssl-mode=REQUIRED)(?![\w,])/, hints: ['sslmode', 'ssl-mode'] },
  { what: 'cluster tag', home: 'lib/spec/tags.ts', text: /(?<![\w-])failover-cluster(?![\w-])/, hints: ['failover-cluster'] },
  // a scheme written with its colon, or schemes in an alternation (`file:|env:`, `(file|env)`): a
  // reference built or checked by hand; the boot scripts' readers name a scheme without its colon
  {
    what: 'secret-reference grammar',
    home: 'lib/contracts/secret-reference.ts',
    text: new RegExp(`(?<![\\w$-])(aws-secretsmanager|azure-keyvault):|(^|[(|^])${SCHEME}:?\\|${SCHEME}\\b`),
    hints: ['aws-secretsmanager', 'azure-keyvault', 'file|', 'env|', 'file:|', 'env:|'],
  },
  { what: 'timing-name table', home: 'lib/contracts/timing-names.ts', text: new RegExp(`\\bguard\\.(${TIMINGS})\\b`), hints: ['guard.'] },
];

/** The TypeScript files below `dir`, relative to the repository, with `/` separators. */
function tsFilesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .map((f) => `${dir}/${f.split('\\').join('/')}`)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.includes('node_modules/'));
}

/** `'./aws-failover-cluster'` in an import names a file, not a contract value. */
function isModuleName(node: ts.Node): boolean {
  const parent = node.parent;
  return ts.isStringLiteral(node) && parent !== undefined && (ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || (ts.isCallExpression(parent) && parent.expression.getText() === 'require'));
}

/** Every copy in one source text: `<what> (line n): <literal>`. */
export function copiesIn(file: string, source: string): string[] {
  // most files hold no candidate at all: skip parsing those
  if (!RULES.some((r) => r.hints.some((h) => source.includes(h))) && !source.includes('isUnresolved')) return [];
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const report = (node: ts.Node, what: string, text: string): void => {
    found.push(`${what} (line ${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}): ${text}`);
  };
  const visit = (node: ts.Node): void => {
    let text: string | undefined;
    if (isModuleName(node)) text = undefined;
    else if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) text = node.text;
    else if (ts.isRegularExpressionLiteral(node)) text = node.text;
    if (text !== undefined) {
      for (const r of RULES) if (r.text && r.home !== file && r.text.test(text)) report(node, r.what, text);
    }
    if (ts.isNumericLiteral(node)) {
      for (const r of RULES) if (r.number !== undefined && r.home !== file && Number(node.text) === r.number) report(node, r.what, node.text);
    }
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'isUnresolved' && node.expression.getText(sf) === 'Token') report(node, 'cdktf token check (use lib/contracts/tokens.ts)', 'Token.isUnresolved');
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('contract copies', () => {
  it('the scan finds each kind of copy (it can fail)', () => {
    const planted = [
      'const port = 9180;',
      "const p = { port: '9180' };",
      "http.get({ path: '/health' });",
      'const u = `http://127.0.0.1:${port}/live`;',
      "const hc = 'option httpchk GET /health';",
      'const s = `curl "http://127.0.0.1:$GUARD_PORT/metrics"`;',
      "const marker = /\\$\\{TfToken\\[/;",
      "const url = `postgres://${u}@${h}/${d}?sslmode=require`;",
      "const tags = { 'failover-cluster': name };",
      "const names = { stopTimeoutSecs: 'spec.guard.stopTimeoutSecs' };",
      'if (Token.isUnresolved(x)) return;',
      'const ref = `aws-secretsmanager:${arn}`;',
      "if (ref.startsWith('azure-keyvault:')) return;",
      'const SOURCE = /^(file:|env:)\\S+$/;',
      "const s = new RegExp('^(file|env):');",
    ];
    for (const line of planted) expect([line, copiesIn('lib/x.ts', line).length]).toEqual([line, 1]);
  });

  it('leaves prose and the contract home alone', () => {
    expect(copiesIn('lib/x.ts', "// the guard's /health on 9180\nconst d = `No node passes the guard's /health`; const h = '/healthy'; const n = 91800;\nimport { A } from './aws-failover-cluster';")).toEqual([]);
    expect(copiesIn('lib/x.ts', "if (scheme === 'aws-secretsmanager') x(); const w = `$env:COMPUTERNAME`; const f = 'file:';")).toEqual([]);
    expect(copiesIn('lib/contracts/guard-endpoints.ts', "export const DEFAULT_GUARD_PORT = 9180;\nexport const GUARD_HEALTH_PATH = '/health';")).toEqual([]);
  });

  it.each(SCANNED)('%s holds no copy of a contract defined in lib/contracts or lib/spec', (dir) => {
    const copies = tsFilesUnder(dir).flatMap((file) => copiesIn(file, readFileSync(join(root, file), 'utf8')).map((c) => `${file}: ${c}`));
    expect(copies).toEqual([]);
  });
});
