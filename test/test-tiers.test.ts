/**
 * The jest tiers (test/harness/tiers.js): every test file is in exactly one, a file that starts
 * a database or the guard build is never in the unit tier, and the unit tier refuses to start a
 * program (so a test that does cannot hide there and slow `npm run test:quick`).
 * @tier unit (it checks the unit tier's own refusal)
 */
import * as childProcess from 'child_process';
import { join } from 'path';
const { testTiers } = require('./harness/tiers') as { testTiers: (root: string) => Record<'unit' | 'process' | 'booted-node' | 'consumer', string[]> };

const tiers = testTiers(join(__dirname, '..'));

describe('test tiers', () => {
  it('put every test file in exactly one tier', () => {
    const all = Object.values(tiers).flat();
    expect(all.length).toBe(new Set(all).size);
    expect(all).toContain('test/test-tiers.test.ts');
  });

  it('sort by what a file uses: real servers and builds are process, booted nodes and the consumer have their own', () => {
    expect([tiers.process.includes('test/guard/lease/lease-store.test.ts'), tiers.process.includes('test/guard/cli.test.ts'), tiers.process.includes('test/synth/guard-build.test.ts')]).toEqual([true, true, true]);
    expect(tiers['booted-node']).toEqual(expect.arrayContaining(['test/nodes/systemd-node.test.ts']));
    expect(tiers.consumer).toEqual(expect.arrayContaining(['test/consumer/consumer.test.ts']));
    expect(tiers.unit).toEqual(expect.arrayContaining(['test/spec/cluster-spec.test.ts', 'test/guard/election/elector-fence.test.ts', 'test/contract-copies.test.ts']));
  });

  it('refuse a program start in the unit tier, naming the way out', () => {
    expect(() => childProcess.spawnSync('true')).toThrow(/unit-tier test starts no program.*@tier process/);
  });
});
