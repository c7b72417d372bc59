import { readdirSync, readFileSync, statSync } from 'fs';
import { dirname, join, posix, relative, sep } from 'path';

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
const CDKTF_OR_PROVIDER = /^(cdktf$|cdktf\/|@cdktf\/|constructs$)/;

/**
 * The layers of lib/, bottom up: each folder may import only the folders it lists (its own files
 * always). problems ← contracts ← spec ← boot, guard ← synth ← aws, azure. `cdktf`: whether it may
 * import cdktf, constructs or a provider package (the guard bundle and the renderers stay free of
 * them). A new folder under lib/ needs a row here before anything imports it.
 */
export const LAYERS: Readonly<Record<string, { readonly may: readonly string[]; readonly cdktf: boolean; readonly what: string }>> = {
  problems: { may: [], cdktf: false, what: 'the validation-problem base: everything may import it, it imports nothing from lib' },
  contracts: { may: ['problems'], cdktf: false, what: "what the guard and the constructs agree on, and the timing maths: never the user's model" },
  spec: { may: ['problems', 'contracts'], cdktf: false, what: "the user's model (ClusterSpec, profiles, tags)" },
  boot: { may: ['problems', 'contracts', 'spec'], cdktf: false, what: 'the boot-script renderers' },
  guard: { may: ['problems', 'contracts', 'spec'], cdktf: false, what: 'the daemon' },
  synth: { may: ['problems', 'contracts', 'spec', 'boot', 'guard'], cdktf: true, what: "synth-time helpers (the guard's build, user data, Terraform templates), for aws and azure only" },
  aws: { may: ['problems', 'contracts', 'spec', 'boot', 'synth'], cdktf: true, what: 'the AWS constructs (they reach the guard only as a built binary, through synth)' },
  azure: { may: ['problems', 'contracts', 'spec', 'boot', 'synth'], cdktf: true, what: 'the Azure constructs (they reach the guard only as a built binary, through synth)' },
};

/**
 * Imports the table does not allow that are known and kept, each with why. Keyed by the importing
 * layer and the imported file's name (not its folder, so a move inside the folder keeps it).
 */
export const KEPT_CROSSINGS: readonly { readonly from: string; readonly file: string; readonly why: string }[] = [
  {
    from: 'boot',
    file: 'unit-contract',
    why: "the systemd unit lines the guard's systemd mode needs, written by the renderer; it reads guard internals (its env-file path, process env), so it lives with the guard",
  },
];

/** Every breach of the layer table in one file of lib/: `<file> imports '<spec>' (<target>): <rule>`. */
export function layerBreaches(file: string, source: string): string[] {
  const parts = file.split('/');
  if (parts[0] !== 'lib' || parts.length < 3) return [];
  const layer = parts[1];
  const row = LAYERS[layer];
  if (!row) return [`${file}: lib/${layer} has no row in the layer table (test/import-rules.test.ts LAYERS): add one before using it`];
  const breaches: string[] = [];
  for (const spec of importedModules(source)) {
    if (spec.startsWith('.')) {
      const target = posix.normalize(posix.join(posix.dirname(file), spec));
      const targetParts = target.split('/');
      if (targetParts[0] !== 'lib' || targetParts.length < 2) {
        breaches.push(`${file} imports '${spec}' (${target}): lib/ imports nothing outside lib/ by path`);
        continue;
      }
      const to = targetParts[1];
      if (to === layer || row.may.includes(to)) continue;
      const name = targetParts[targetParts.length - 1].replace(/\.(ts|js)$/, '');
      if (KEPT_CROSSINGS.some((k) => k.from === layer && k.file === name && to === 'guard')) continue;
      const allowed = row.may.length ? row.may.map((m) => `lib/${m}`).join(', ') : 'nothing from lib/';
      breaches.push(`${file} imports '${spec}' (lib/${to}): lib/${layer} (${row.what}) may import ${allowed}`);
    } else if (/^failover-constructs(\/|$)/.test(spec)) {
      breaches.push(`${file} imports '${spec}': inside lib/, import the file by relative path, not the package's public name`);
    } else if (!row.cdktf && CDKTF_OR_PROVIDER.test(spec)) {
      breaches.push(`${file} imports '${spec}': lib/${layer} (${row.what}) imports neither cdktf, constructs nor a provider`);
    }
  }
  return breaches;
}

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

  it('the layer check names the file, the import and the rule (it can fail)', () => {
    expect(layerBreaches('lib/contracts/x.ts', "import type { ClusterSpec } from '../spec/cluster-spec';")).toEqual([
      "lib/contracts/x.ts imports '../spec/cluster-spec' (lib/spec): lib/contracts (what the guard and the constructs agree on, and the timing maths: never the user's model) may import lib/problems",
    ]);
    expect(layerBreaches('lib/problems/x.ts', "import { A } from '../contracts/timing';")).toEqual([
      "lib/problems/x.ts imports '../contracts/timing' (lib/contracts): lib/problems (the validation-problem base: everything may import it, it imports nothing from lib) may import nothing from lib/",
    ]);
    expect(layerBreaches('lib/guard/room/x.ts', "export * from '../../aws/aws-support';")).toHaveLength(1);
    expect(layerBreaches('lib/aws/x.ts', "import { b } from '../guard/elector';\nimport { c } from '../azure/azure-support';")).toHaveLength(2);
    expect(layerBreaches('lib/spec/x.ts', "import { a } from '../synth/user-data';\nimport { App } from 'cdktf';\nimport { p } from 'failover-constructs/spec';")).toHaveLength(3);
    expect(layerBreaches('lib/boot/x.ts', "import { v } from '../../package.json';")).toHaveLength(1);
    expect(layerBreaches('lib/gcp/x.ts', '')).toEqual(['lib/gcp/x.ts: lib/gcp has no row in the layer table (test/import-rules.test.ts LAYERS): add one before using it']);
    // allowed: the same layer, a lower one, a kept crossing, npm packages
    expect(layerBreaches('lib/boot/x.ts', "import { a } from './y';\nimport { b } from '../spec/profile';\nimport { c } from '../guard/unit-contract';\nimport { z } from 'zod';")).toEqual([]);
    expect(layerBreaches('lib/azure/x.ts', "import { S } from '../synth/user-data';\nimport { App } from 'cdktf';")).toEqual([]);
  });

  it('every import in lib/ follows the layer table', () => {
    const breaches = filesUnder('lib').flatMap((f) => layerBreaches(relative(root, f).split(sep).join('/'), readFileSync(f, 'utf8')));
    expect(breaches).toEqual([]);
  });

  it('each kept crossing is still needed (a crossing nobody makes is deleted from the list)', () => {
    const layerOf = (f: string) => relative(root, f).split(sep)[1];
    for (const k of KEPT_CROSSINGS) {
      const users = filesUnder(`lib/${k.from}`).filter((f) =>
        importedModules(readFileSync(f, 'utf8')).some((m) => m.startsWith('.') && posix.basename(m) === k.file && posix.normalize(posix.join(dirname(relative(root, f)).split(sep).join('/'), m)).startsWith('lib/guard/')),
      );
      expect([k.from, k.file, users.map(layerOf)]).toEqual([k.from, k.file, expect.arrayContaining([k.from])]);
    }
  });
});
