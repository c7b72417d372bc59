import { readdirSync, readFileSync, statSync } from 'fs';
import { join, relative } from 'path';

// given: every TypeScript file the project owns
const root = join(__dirname, '..');
function filesUnder(dir: string): string[] {
  const abs = join(root, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(abs, name);
    if (statSync(path).isDirectory()) return filesUnder(relative(root, path));
    return /\.(ts|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}

/** Module specifiers of static imports, re-exports, require() and dynamic import(). */
export function importedModules(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) specs.push(m[2]);
  return specs;
}

const PROVIDER_ROOT = /^@cdktf\/provider-(aws|azurerm)$/;
const CDKTF_OR_PROVIDER = /^(cdktf$|cdktf\/|@cdktf\/)/;

describe('import rules', () => {
  it('finds the imports it checks (the scanner itself works)', () => {
    // the package name is split so this file does not trip the rule it tests
    const providerRoot = '@cdktf/provider-' + 'aws';
    expect(importedModules(`import { X } from '${providerRoot}';\nconst y = require("cdktf");\nexport * from './a';\nimport 'side-effect';`)).toEqual([
      providerRoot,
      'cdktf',
      './a',
      'side-effect',
    ]);
  });

  it.each(['lib', 'apps', 'test'])('%s imports provider packages only by deep path', (dir) => {
    const offenders = filesUnder(dir).filter((f) => importedModules(readFileSync(f, 'utf8')).some((m) => PROVIDER_ROOT.test(m)));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });

  it.each(['lib/spec', 'lib/boot', 'lib/guard'])('%s imports neither cdktf nor a provider', (dir) => {
    const offenders = filesUnder(dir).filter((f) => importedModules(readFileSync(f, 'utf8')).some((m) => CDKTF_OR_PROVIDER.test(m)));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
});
