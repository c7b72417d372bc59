/**
 * The documentation's pages and their TypeScript examples: README.md and docs/*.md, each
 * ```ts block a module. A block that opens with `// <file>.ts` is that file of a project (other
 * blocks of the same page may import it by that name); any other block is a file of its own.
 * Used by the quick type-check (test/docs) and by the packed-package check (test/consumer).
 */
import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';

export const ROOT = join(__dirname, '..', '..');

export interface DocPage {
  /** Repository-relative path, e.g. `docs/aws.md`. */
  readonly path: string;
  readonly text: string;
}

export interface CodeBlock {
  readonly page: string;
  /** 1-based line of the block's first code line in its page. */
  readonly line: number;
  /** The file the block is, relative to its page's project folder: its `// <file>.ts` name, else `block-<line>.ts`. */
  readonly file: string;
  readonly body: string;
}

/** README.md and every docs/*.md, in a stable order. */
export function docPages(root = ROOT): DocPage[] {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`);
  return ['README.md', ...docs].map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }));
}

/** The ```ts (or ```typescript) blocks of one page. */
export function tsBlocks(page: DocPage): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = page.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    if (end === lines.length) throw new Error(`${page.path}:${i + 1}: a \`\`\`ts block is never closed`);
    const body = lines.slice(start, end).map((l) => l.slice(open[1].length)).join('\n') + '\n';
    const name = /^\/\/ (\S+\.ts)\n/.exec(body)?.[1];
    blocks.push({ page: page.path, line: start + 1, file: name ?? `block-${start + 1}.ts`, body });
    i = end;
  }
  return blocks;
}

/** Where a page's blocks live in a project: one folder per page (`docs/aws.md` → `docs-aws`). */
export function pageFolder(page: string): string {
  return page.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-');
}

/** Every block as a project file (page folder / block file); `export {}` keeps blocks without imports modules. */
export function blockFiles(blocks: readonly CodeBlock[]): Map<string, CodeBlock & { text: string }> {
  const files = new Map<string, CodeBlock & { text: string }>();
  for (const b of blocks) {
    const path = `${pageFolder(b.page)}/${b.file}`;
    if (files.has(path)) throw new Error(`${b.page}:${b.line}: a second block named ${b.file}`);
    files.set(path, { ...b, text: `${b.body}export {};\n` });
  }
  return files;
}
