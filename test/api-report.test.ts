import { execFileSync } from 'child_process';
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

/**
 * The public surface of every package entry is checked in as api/<entry>.api.md (API Extractor's
 * report): a change to what users can import shows up as a diff in review, and a change made
 * without regenerating the reports fails here.
 */
const root = join(__dirname, '..');

describe('public API reports', () => {
  it('api/*.api.md match what the entries export', () => {
    let output = '';
    try {
      execFileSync(process.execPath, [require.resolve('tsx/cli'), join(root, 'scripts', 'api-report.ts'), '--check'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      output = `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
    }
    // On failure the message says which report differs and how to update it (`npm run api`).
    expect(output).toBe('');
  }, 240_000);

  it('carry no @deprecated name while the package is below 1.0 (nothing released to stay compatible with)', () => {
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const deprecated = readdirSync(join(root, 'api'))
      .filter((f) => f.endsWith('.api.md'))
      .flatMap((f) => readFileSync(join(root, 'api', f), 'utf8').split('\n').map((line, i) => ({ where: `api/${f}:${i + 1}`, line })))
      .filter(({ line }) => line.includes('@deprecated'))
      .map(({ where, line }) => `${where}: ${line.trim()}`);
    expect(Number(version.split('.')[0]) >= 1 ? [] : deprecated).toEqual([]);
  });
});
