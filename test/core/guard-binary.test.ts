import { existsSync } from 'fs';
import { join } from 'path';
import { defaultGuardBinaryPath, guardBinaryProblems, packageRoot } from '../../lib/core/guard-binary';
import { FIXTURE_BINARY } from '../azure/helpers';

describe('guard binary location', () => {
  it('finds the package root from lib/azure and defaults to dist/bin under it', () => {
    const root = packageRoot();
    expect(existsSync(join(root, 'package.json'))).toBe(true);
    expect(defaultGuardBinaryPath('linux')).toBe(join(root, 'dist', 'bin', 'failover-guard-linux-x64'));
    expect(defaultGuardBinaryPath('windows')).toBe(join(root, 'dist', 'bin', 'failover-guard-win-x64.exe'));
  });

  it('reports a missing binary naming the prop and the build command, and nothing for an existing one', () => {
    expect(guardBinaryProblems('binaryPath', '/nonexistent/guard')).toEqual([
      { path: 'binaryPath', message: 'guard binary not found at /nonexistent/guard; run `npm run build:guard` first (or pass binaryPath)' },
    ]);
    expect(guardBinaryProblems('binaryPath', FIXTURE_BINARY)).toEqual([]);
  });

  it('fails clearly when no package root is above the start directory', () => {
    expect(() => packageRoot('/')).toThrow(/cannot find the failover-constructs package root above \//);
  });
});
