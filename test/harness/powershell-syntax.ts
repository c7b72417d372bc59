import { readFileSync } from 'fs';
import { Language, Parser } from 'web-tree-sitter';

/**
 * No PowerShell runs on these machines, so rendered Windows scripts are at least parsed with the
 * tree-sitter PowerShell grammar (WebAssembly from the `tree-sitter-powershell` package): an
 * unbalanced brace or quote from templating shows up as an ERROR or MISSING node. Known grammar
 * gap: bare comma-separated command arguments (`Remove-Variable a, b`) parse as errors although
 * PowerShell accepts them; write `-Name @('a', 'b')` instead.
 */
let parser: Promise<Parser> | undefined;

function powershellParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    // bytes, not a path: loading by path takes a dynamic import that jest's VM refuses
    const language = await Language.load(readFileSync(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm')));
    const p = new Parser();
    p.setLanguage(language);
    return p;
  })();
  return parser;
}

/** Each syntax error as `line:column text of the line`; empty when the script parses. */
export async function powershellSyntaxErrors(script: string): Promise<string[]> {
  const body = script.replace(/^<powershell>\n/, '').replace(/<\/powershell>\n?$/, '');
  const tree = (await powershellParser()).parse(body);
  if (!tree) throw new Error('tree-sitter returned no tree');
  const lines = body.split('\n');
  const errors: string[] = [];
  const walk = (node: NonNullable<typeof tree>['rootNode']): void => {
    if (node.type === 'ERROR' || node.isMissing) {
      const row = node.startPosition.row;
      errors.push(`${row + 1}:${node.startPosition.column} ${node.isMissing ? `missing ${node.type}: ` : ''}${lines[row]?.trim() ?? ''}`);
    }
    for (const child of node.children) if (child) walk(child);
  };
  walk(tree.rootNode);
  tree.delete();
  return errors;
}

/** A command call in a script: its name, its line, and the names of the commands it is nested in (innermost first). */
export interface PowerShellCommand {
  readonly name: string;
  readonly line: number;
  readonly text: string;
  readonly within: readonly string[];
}

/** Every command call in the script (tree-sitter), with the commands whose script-block arguments hold it. */
export async function powershellCommands(script: string): Promise<PowerShellCommand[]> {
  const body = script.replace(/^<powershell>\n/, '').replace(/<\/powershell>\n?$/, '');
  const tree = (await powershellParser()).parse(body);
  if (!tree) throw new Error('tree-sitter returned no tree');
  type Node = NonNullable<typeof tree>['rootNode'];
  const nameOf = (n: Node) => n.childForFieldName('command_name')?.text ?? '';
  const found: PowerShellCommand[] = [];
  const walk = (node: Node): void => {
    if (node.type === 'command') {
      const within: string[] = [];
      for (let p = node.parent; p; p = p.parent) if (p.type === 'command') within.push(nameOf(p));
      found.push({ name: nameOf(node), line: node.startPosition.row + 1, text: node.text, within });
    }
    for (const child of node.children) if (child) walk(child);
  };
  walk(tree.rootNode);
  tree.delete();
  return found;
}
