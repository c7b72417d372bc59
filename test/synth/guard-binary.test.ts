import { existsSync } from 'fs';
import { join } from 'path';
import { guardBinaryProblems, packageRoot } from '../../lib/synth/guard-binary';
import { FIXTURE_BINARY } from '../harness/guard-fixture';

describe('guard binary location', () => {
  it('finds the package root from lib/synth', () => {
    expect(existsSync(join(packageRoot(), 'apps', 'failover-guard.ts'))).toBe(true);
  });

  it('reports a missing or empty binaryPath naming the prop, and nothing for an existing file or an unset one (built at synth)', () => {
    expect(guardBinaryProblems('binaryPath', '/nonexistent/guard')).toEqual([
      { path: 'binaryPath', message: 'no guard binary at /nonexistent/guard (leave binaryPath unset to build it at synth)' },
    ]);
    expect(guardBinaryProblems('binaryPath', '')).toEqual([{ path: 'binaryPath', message: 'must be a file path, or unset to build the guard at synth' }]);
    expect(guardBinaryProblems('binaryPath', __dirname)).toHaveLength(1);
    expect(guardBinaryProblems('binaryPath', FIXTURE_BINARY)).toEqual([]);
    expect(guardBinaryProblems('binaryPath', undefined)).toEqual([]);
  });

  it('fails clearly when no package root is above the start directory', () => {
    expect(() => packageRoot('/')).toThrow(/cannot find the failover-constructs package root above \//);
  });
});
