import { readFileSync } from 'fs';
import { join } from 'path';
import { GUARD_VERSION } from '../../lib/guard/version';

it('matches the package version', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  expect(GUARD_VERSION).toBe(pkg.version);
});
