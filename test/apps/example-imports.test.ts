/**
 * Each example in apps/examples/<scenario>/ is a small project a user can copy: it imports this
 * package only by its public names (the entry points of package.json `exports`), never lib/ or
 * another example by a relative path.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'apps', 'examples');

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
}

describe('the examples', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  const entryPoints = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));
  const scenarios = readdirSync(EXAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

  it('are one folder each, with a stack, an app and a README', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(5);
    for (const s of scenarios) expect(readdirSync(join(EXAMPLES, s)).sort()).toEqual(['README.md', 'main.ts', 'stack.ts']);
  });

  it.each(['main.ts', 'stack.ts'])('import the package by its entry points only, and nothing outside their folder (%s)', (file) => {
    const wrong = scenarios.flatMap((s) =>
      importsOf(join(EXAMPLES, s, file))
        .filter((spec) => (spec.startsWith('.') ? !spec.startsWith('./') : spec.startsWith(pkg.name) && !entryPoints.includes(spec)))
        .map((spec) => `${s}/${file}: ${spec}`),
    );
    expect(wrong).toEqual([]);
    expect(scenarios.flatMap((s) => importsOf(join(EXAMPLES, s, 'stack.ts'))).filter((spec) => spec.startsWith(pkg.name)).length).toBeGreaterThanOrEqual(scenarios.length);
  });
});
