import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { claimInstanceFile, holderId, parseHolder } from '../../../lib/guard/lease/holder-identity';

describe('claimInstanceFile (which earlier run of this guard may be handed back)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'holder-identity-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a first run has no predecessor, and records itself (owner only)', () => {
    const file = join(dir, 'g.instance');
    expect(claimInstanceFile(file, 'aaaa', () => false)).toBeUndefined();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ pid: process.pid, instance: 'aaaa' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('the run before, gone, is the predecessor; alive, it is a second guard under this node id, never one', () => {
    // given: a record of an earlier run with pid 4242
    const file = join(dir, 'g.instance');
    const earlier = () => writeFileSync(file, JSON.stringify({ pid: 4242, instance: 'bbbb' }));
    // when / then
    earlier();
    expect(claimInstanceFile(file, 'cccc', (pid) => pid !== 4242)).toBe('bbbb');
    earlier();
    expect(claimInstanceFile(file, 'dddd', (pid) => pid === 4242)).toBeUndefined();
    // an unreadable record hands back nothing
    writeFileSync(file, 'not json');
    expect(claimInstanceFile(file, 'eeee', () => false)).toBeUndefined();
  });

  it('holder values round-trip (node ids never contain #)', () => {
    expect(parseHolder(holderId('node-a', 'ff01'))).toEqual({ node: 'node-a', instance: 'ff01' });
    expect(parseHolder('node-a')).toEqual({ node: 'node-a', instance: null });
  });
});
