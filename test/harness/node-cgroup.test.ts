/**
 * The wrapper that puts a booted node's systemd-nspawn in a cgroup of its own, run on dash and
 * bash against a stand-in cgroup root (plain files: the real one needs root and is shared).
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { NodeCgroup } from './node-cgroup';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'fc-node-cgroup-'));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A hybrid layout as this machine has: cgroup v2 at `unified/`, v1's `name=systemd` at `systemd/`. */
function hybridRoot(): void {
  mkdirSync(join(root, 'unified'));
  writeFileSync(join(root, 'unified', 'cgroup.controllers'), '');
  mkdirSync(join(root, 'systemd'));
  writeFileSync(join(root, 'systemd', 'cgroup.procs'), '');
}

describe('NodeCgroup', () => {
  it.each(['/bin/dash', '/bin/bash'])('%s: the command runs with its own pid written into every hierarchy the node uses, arguments intact', (shell) => {
    // given
    hybridRoot();
    const cg = new NodeCgroup('fc-node-a', root);
    // when
    const run = cg.wrap('/bin/sh', ['-c', 'echo "$$ $0 $1"', 'zero', 'one two']);
    const r = spawnSync(shell, run.args, { encoding: 'utf8' });
    // then
    expect(r.status).toBe(0);
    const [pid, ...rest] = r.stdout.trim().split(' ');
    expect(rest.join(' ')).toBe('zero one two');
    expect(cg.dirs.map((d) => d.slice(root.length).split('/')[1])).toEqual(['unified', 'systemd']);
    for (const d of cg.dirs) expect(readFileSync(join(d, 'cgroup.procs'), 'utf8').trim()).toBe(pid);
  });

  it('two nodes get two cgroups', () => {
    hybridRoot();
    const a = new NodeCgroup('fc-node-a', root);
    const b = new NodeCgroup('fc-node-b', root);
    expect(a.dirs.filter((d) => b.dirs.includes(d))).toEqual([]);
  });

  it('without a cgroup file system the command is left as it is', () => {
    const cg = new NodeCgroup('fc-node-a', root);
    expect(cg.wrap('/usr/bin/systemd-nspawn', ['--boot'])).toEqual({ cmd: '/usr/bin/systemd-nspawn', args: ['--boot'] });
  });
});
