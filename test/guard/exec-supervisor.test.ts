import { spawn } from 'child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ExecSupervisor } from '../../lib/guard/exec-supervisor';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const dir = mkdtempSync(join(tmpdir(), 'exec-sup-'));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2].startsWith('Z');
  } catch {
    return false;
  }
}

function sup(command: string, stopTimeoutSecs = 1, node = 'n1') {
  return new ExecSupervisor({ command, stopTimeoutSecs, pidFile: join(dir, `${node}.pid`), cluster: 'c', node, log: silent });
}

describe('ExecSupervisor', () => {
  it('passes the env, stops with SIGTERM the whole process group', async () => {
    // given: a shell that starts a background child and writes its env
    const out = join(dir, 'env');
    const s = sup(`sleep 60 & echo "$FAILOVER_GUARD_TERM $!" > ${out}; wait`);
    // when
    await s.start({ FAILOVER_GUARD_TERM: '9', FAILOVER_GUARD_CLUSTER: 'c', FAILOVER_GUARD_NODE: 'n1' });
    for (let i = 0; i < 50 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 20));
    const [term, bg] = readFileSync(out, 'utf8').trim().split(' ');
    expect(await s.ready()).toBe(true);
    await s.stop();
    // then
    expect(term).toBe('9');
    expect(alive(Number(bg))).toBe(false);
    expect(await s.ready()).toBe(false);
  });

  it('SIGKILLs an app that ignores SIGTERM after the stop timeout', async () => {
    const s = sup(`trap '' TERM; while true; do sleep 0.1; done`, 0.5);
    await s.start({});
    const t0 = Date.now();
    await s.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
  });

  it('reports an app that exits by itself', async () => {
    const s = sup('exit 3');
    const exited = new Promise<string>((resolve) => s.onExit(resolve));
    await s.start({});
    await expect(exited).resolves.toBe('exited with code 3');
  });

  it('kills an app left over from an earlier run of the same guard, never a foreign process', async () => {
    // given: an "old" app of cluster c / node n2, and a foreign process, each in its own group
    const old = spawn('/bin/sh', ['-c', 'sleep 60'], { detached: true, stdio: 'ignore', env: { ...process.env, FAILOVER_GUARD_CLUSTER: 'c', FAILOVER_GUARD_NODE: 'n2' } });
    const foreign = spawn('/bin/sh', ['-c', 'sleep 60'], { detached: true, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(join(dir, 'n2.pid'), `${old.pid}\n`);
    writeFileSync(join(dir, 'n3.pid'), `${foreign.pid}\n`);
    // when
    await sup('true', 1, 'n2').cleanup();
    await sup('true', 1, 'n3').cleanup();
    // then
    expect(alive(old.pid!)).toBe(false);
    expect(alive(foreign.pid!)).toBe(true);
    process.kill(-foreign.pid!, 'SIGKILL');
  });
});
