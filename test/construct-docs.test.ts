import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import * as ts from 'typescript';

/**
 * The public API of lib/aws and lib/azure is documented the way aws-cdk-lib documents its
 * props: every exported declaration and public member has a sentence; an optional prop says its
 * default; `@default` starts its own line (after the sentence), so editors and API docs show
 * it as the default instead of as part of the sentence.
 */

const FOLDERS = ['lib/aws', 'lib/azure'];
const ROOT = join(__dirname, '..');

interface Finding {
  readonly where: string;
  readonly problem: string;
}

/** The doc comment's lines without the comment markers (`/**`, leading `*`, `*\/`). */
function docLines(node: ts.Node, source: ts.SourceFile): string[] | undefined {
  const ranges = ts.getLeadingCommentRanges(source.text, node.getFullStart()) ?? [];
  const doc = ranges.filter((r) => source.text.slice(r.pos, r.pos + 3) === '/**').pop();
  if (!doc) return undefined;
  return source.text
    .slice(doc.pos + 3, doc.end - 2)
    .split('\n')
    .map((l) => l.replace(/^\s*\*? ?/, '').trim())
    .filter((l) => l !== '');
}

/** Problems of one declaration's doc comment. */
function docProblems(lines: string[] | undefined, optional: boolean): string[] {
  if (!lines) return ['no doc comment'];
  const problems: string[] = [];
  if (lines[0].startsWith('@') && !lines[0].startsWith('@deprecated')) problems.push(`starts with ${lines[0].split(' ')[0]} instead of a sentence`);
  for (const line of lines) {
    if (/\S.*@default\b/.test(line) && !line.startsWith('@default')) problems.push(`@default mid-line: "${line}"`);
  }
  if (optional && !lines.some((l) => /@default\b/.test(l) || l.startsWith('@deprecated'))) problems.push('optional but no @default');
  return problems;
}

const isExported = (node: ts.Node): boolean => (ts.getCombinedModifierFlags(node as ts.Declaration) & ts.ModifierFlags.Export) !== 0;
const isPublic = (node: ts.Node): boolean => (ts.getCombinedModifierFlags(node as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0;

function findings(file: string): Finding[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const out: Finding[] = [];
  const check = (node: ts.Node, name: string, optional = false) => {
    for (const problem of docProblems(docLines(node, source), optional)) out.push({ where: `${file} ${name}`, problem });
  };
  for (const statement of source.statements) {
    if (!isExported(statement)) continue;
    if (ts.isInterfaceDeclaration(statement)) {
      check(statement, statement.name.text);
      for (const member of statement.members) {
        if (ts.isPropertySignature(member)) check(member, `${statement.name.text}.${member.name.getText(source)}`, member.questionToken !== undefined);
      }
    } else if (ts.isClassDeclaration(statement) && statement.name) {
      check(statement, statement.name.text);
      for (const member of statement.members) {
        if (ts.isConstructorDeclaration(member) || !member.name || !isPublic(member)) continue;
        check(member, `${statement.name.text}.${member.name.getText(source)}`);
      }
    } else if (ts.isFunctionDeclaration(statement) && statement.name) {
      check(statement, statement.name.text);
    } else if (ts.isVariableStatement(statement)) {
      check(statement, statement.declarationList.declarations.map((d) => d.name.getText(source)).join(', '));
    } else if (ts.isTypeAliasDeclaration(statement)) {
      check(statement, statement.name.text);
    }
  }
  return out;
}

describe.each(FOLDERS)('public API docs of %s', (folder) => {
  const files = readdirSync(join(ROOT, folder))
    .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
    .map((f) => `${folder}/${f}`);

  it.each(files)('%s: every export and public member has a sentence; optional props name their @default on its own line', (file) => {
    expect(findings(file).map((f) => `${f.where}: ${f.problem}`)).toEqual([]);
  });
});

describe('the doc checker', () => {
  // the rules above, on small samples, so a checker that passes everything would fail here
  const sample = (text: string): string[] => {
    const source = ts.createSourceFile('x.ts', text, ts.ScriptTarget.Latest, true);
    const iface = source.statements[0] as ts.InterfaceDeclaration;
    const prop = iface.members[0] as ts.PropertySignature;
    return docProblems(docLines(prop, source), prop.questionToken !== undefined);
  };

  it.each([
    ['/** A. */ interface P {\n  /** The size. @default 1 */\n  readonly a?: number;\n}', ['@default mid-line: "The size. @default 1"']],
    ['/** A. */ interface P {\n  /** @default 1 */\n  readonly a?: number;\n}', ['starts with @default instead of a sentence']],
    ['/** A. */ interface P {\n  /** The size. */\n  readonly a?: number;\n}', ['optional but no @default']],
    ['/** A. */ interface P {\n  readonly a: number;\n}', ['no doc comment']],
    ['/** A. */ interface P {\n  /**\n   * The size.\n   * @default 1\n   */\n  readonly a?: number;\n}', []],
  ])('%s', (text, expected) => {
    expect(sample(text)).toEqual(expected);
  });
});
