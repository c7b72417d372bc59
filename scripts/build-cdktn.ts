/**
 * Builds the CDK Terrain (cdktn) flavour of the constructs from the compiled cdktf flavour:
 * every module of dist/lib that reaches `cdktf` or a `@cdktf/provider-*` package (directly or
 * through its relative imports, types included) is written again under dist/cdktn/ with those
 * specifiers renamed to `cdktn` and `@cdktn/provider-*`; its relative imports of modules that
 * reach neither (spec, boot, guard, the cloud-neutral helpers) point back at dist/lib, so those
 * exist once and both flavours share them. Nothing is listed by name: the folders of lib/ can
 * move and this follows. Run by `npm run build` after tsc.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { dirname, join, posix, relative } from 'path';
import * as ts from 'typescript';

/** cdktf's package names and their CDK Terrain counterparts (the fork renamed, nothing else). */
const RENAMES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^cdktf(?=\/|$)/, 'cdktn'],
  [/^@cdktf\/(provider-[^/]+)(?=\/|$)/, '@cdktn/$1'],
];

/** A module specifier's cdktn name; undefined when it names no cdktf package. Throws on a cdktf package without a counterpart. */
export function cdktnSpecifier(specifier: string): string | undefined {
  for (const [from, to] of RENAMES) if (from.test(specifier)) return specifier.replace(from, to);
  if (/^(cdktf-|@cdktf\/)/.test(specifier)) throw new Error(`${specifier}: no CDK Terrain counterpart is known (the flavour build renames only cdktf and @cdktf/provider-*)`);
  return undefined;
}

/** `a/b.js` or `a/b.d.ts` → `a/b` (a module's JavaScript and its declarations are one module). */
function moduleOf(file: string): string | undefined {
  return /^(.*)(\.d\.ts|\.js)$/.exec(file)?.[1];
}

interface Specifier {
  /** Offset of the specifier's text (inside its quotes). */
  readonly start: number;
  readonly text: string;
}

/** Every module specifier of a compiled file: import/export from, require(), import(), import("…") types. */
function specifiersOf(file: string, text: string): Specifier[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => {
    // preProcessFile's pos is the opening quote
    const start = f.pos + 1;
    if (text.slice(start, start + f.fileName.length) !== f.fileName) throw new Error(`${file}: cannot locate the specifier ${f.fileName} at ${f.pos}`);
    return { start, text: f.fileName };
  });
}

/** The module of `files` a relative specifier in `from` names (`./x` → x or x/index), if it is one of them. */
function resolveRelative(modules: ReadonlySet<string>, from: string, specifier: string): string | undefined {
  const base = posix.join(posix.dirname(from), specifier.replace(/\.js$/, ''));
  return [base, `${base}/index`].find((m) => modules.has(m));
}

/**
 * The cdktn flavour of a compiled tree: `files` maps paths relative to the compiled root
 * (posix, `aws/index.js`) to their text; the result maps the paths of the flavour's files,
 * relative to its own root, to theirs. `sharedFromFlavour` is the compiled root seen from the
 * flavour's root (`../lib` for dist/cdktn beside dist/lib). Source-map comments are dropped
 * (the flavour has no maps).
 */
export function cdktnFlavour(files: ReadonlyMap<string, string>, sharedFromFlavour: string): Map<string, string> {
  const compiled = [...files.keys()].filter((f) => moduleOf(f) !== undefined);
  const modules = new Set(compiled.map((f) => moduleOf(f)!));
  const specifiers = new Map(compiled.map((f) => [f, specifiersOf(f, files.get(f)!)]));
  // a module reaches cdktf when one of its files names a cdktf package or a module that does
  const imports = new Map<string, Set<string>>();
  const reaches = new Set<string>();
  for (const f of compiled) {
    const m = moduleOf(f)!;
    const set = imports.get(m) ?? new Set<string>();
    imports.set(m, set);
    for (const s of specifiers.get(f)!) {
      if (cdktnSpecifier(s.text) !== undefined) reaches.add(m);
      const target = s.text.startsWith('.') ? resolveRelative(modules, m, s.text) : undefined;
      if (target) set.add(target);
    }
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const [m, targets] of imports) {
      if (!reaches.has(m) && [...targets].some((t) => reaches.has(t))) {
        reaches.add(m);
        grew = true;
      }
    }
  }
  const out = new Map<string, string>();
  for (const f of compiled.filter((f) => reaches.has(moduleOf(f)!))) {
    let text = files.get(f)!;
    // from the end, so earlier offsets stay valid
    for (const s of [...specifiers.get(f)!].sort((a, b) => b.start - a.start)) {
      let renamed = cdktnSpecifier(s.text);
      if (renamed === undefined && s.text.startsWith('.')) {
        const target = resolveRelative(modules, moduleOf(f)!, s.text);
        if (!target || !reaches.has(target)) {
          // shared: the same file of the compiled tree (or whatever lies beyond it), seen from the flavour's copy
          const shared = posix.relative(posix.dirname(f), posix.join(sharedFromFlavour, posix.dirname(f), s.text));
          renamed = shared.startsWith('.') ? shared : `./${shared}`;
        }
      }
      if (renamed !== undefined) text = text.slice(0, s.start) + renamed + text.slice(s.start + s.text.length);
    }
    out.set(f, text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
  }
  return out;
}

function readTree(root: string, dir = root, into = new Map<string, string>()): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) readTree(root, path, into);
    else if (moduleOf(entry.name) !== undefined) into.set(relative(root, path).split('\\').join('/'), readFileSync(path, 'utf8'));
  }
  return into;
}

/** Writes `<dist>/cdktn` from `<dist>/lib`; returns the flavour's file count. */
export function buildCdktnFlavour(dist: string): number {
  const lib = join(dist, 'lib');
  const flavour = join(dist, 'cdktn');
  if (!existsSync(lib)) throw new Error(`${lib} does not exist: run tsc -p tsconfig.build.json first`);
  rmSync(flavour, { recursive: true, force: true });
  const files = cdktnFlavour(readTree(lib), relative(flavour, lib).split('\\').join('/'));
  for (const [path, text] of files) {
    mkdirSync(dirname(join(flavour, path)), { recursive: true });
    writeFileSync(join(flavour, path), text);
  }
  return files.size;
}

if (require.main === module) {
  const dist = join(__dirname, '..', 'dist');
  const count = buildCdktnFlavour(dist);
  console.log(`cdktn flavour: ${count} files in ${relative(process.cwd(), join(dist, 'cdktn')) || '.'}`);
}
