import { readdirSync, readFileSync } from 'fs';
import { join, relative } from 'path';

/**
 * Docs, code and comments cite no issue numbers of this project ("issue 12", "defect 8"): an
 * outside reader cannot follow them. Say what the behaviour is instead. Another project's issue
 * is cited as a link (`[owner/repo#59](https://github.com/owner/repo/issues/59)`).
 */
const root = join(__dirname, '..');
const CITATION = /\bissues? #?\d+\b|\bdefect \d+\b/i;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (['node_modules', '__snapshots__', 'fixtures'].includes(e.name)) return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? files(path) : /\.(ts|js|md|sh|ps1)$/.test(e.name) ? [path] : [];
  });
}

describe('issue numbers', () => {
  it('are not cited in README, CHANGELOG, docs, lib, apps, scripts or test', () => {
    const scanned = [join(root, 'README.md'), join(root, 'CHANGELOG.md'), ...['docs', 'lib', 'apps', 'scripts', 'test'].flatMap((d) => files(join(root, d)))].filter((f) => f !== __filename);
    const cited = scanned.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (CITATION.test(line) ? [`${relative(root, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(cited).toEqual([]);
  });
});
