import { spawn, spawnSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ExecSupervisor, WATCHDOG_SCRIPT } from '../../lib/guard/exec-supervisor';

import { silent } from '../harness/silent-log';
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
    // (SIGKILL is delivered asynchronously: on a loaded machine the process may take a moment to die)
    expect(await until(() => !alive(Number(bg)), 2000)).toBe(true);
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

/** Whether any live (non-zombie) process is in the group: a killed but unreaped shell does not count. */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

async function until(what: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
}

describe('ExecSupervisor (issue 12)', () => {
  it('the watchdog script is POSIX sh (shellcheck clean)', () => {
    const r = spawnSync('shellcheck', ['-s', 'sh', '-'], { input: WATCHDOG_SCRIPT, encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('a start while a stop still runs waits for the stop, then starts', async () => {
    // given: an app that takes 0.3 s to stop
    const s = sup(`trap 'sleep 0.3; exit 0' TERM; while true; do sleep 0.05; done`, 2, 'n4');
    await s.start({});
    await new Promise((r) => setTimeout(r, 100));
    // when
    const stopping = s.stop();
    const starting = s.start({});
    await stopping;
    await starting;
    // then: running again
    expect(await s.ready()).toBe(true);
    await s.stop();
  });

  for (const shell of ['/bin/dash', '/bin/bash']) {
    it(`${shell}: a kill -9 of the guard takes down an app the shell forked`, async () => {
      // given: a stand-in guard process, and a command the shell must fork (more follows it)
      const guard = spawn('sleep', ['60'], { stdio: 'ignore' });
      const s = new ExecSupervisor({ command: 'sleep 60; true', stopTimeoutSecs: 1, pidFile: join(dir, `fork-${shell.slice(5)}.pid`), cluster: 'c', node: 'n5', log: silent, shell, guardPid: guard.pid });
      await s.start({});
      const pgid = Number(readFileSync(join(dir, `fork-${shell.slice(5)}.pid`), 'utf8'));
      await new Promise((r) => setTimeout(r, 300));
      expect(groupAlive(pgid)).toBe(true);
      // when
      guard.kill('SIGKILL');
      // then
      expect(await until(() => !groupAlive(pgid), 3000)).toBe(true);
    });

    it(`${shell}: a stalled guard (event loop blocked past W) has its app killed from outside`, async () => {
      // given
      const s = new ExecSupervisor({ command: 'sleep 60; true', stopTimeoutSecs: 1, pidFile: join(dir, `stall-${shell.slice(5)}.pid`), cluster: 'c', node: 'n6', log: silent, shell, watchdogSecs: 0.6 });
      const exited = new Promise<string>((r) => s.onExit(r));
      await s.start({});
      const pgid = Number(readFileSync(join(dir, `stall-${shell.slice(5)}.pid`), 'utf8'));
      await new Promise((r) => setTimeout(r, 500));
      expect(groupAlive(pgid)).toBe(true);
      // when: this event loop (the guard's) stalls for 2.5 s
      const end = Date.now() + 2500;
      while (Date.now() < end) {
        /* stalled */
      }
      // then: the watchdog killed the app meanwhile, and the guard hears about it
      expect(groupAlive(pgid)).toBe(false);
      await expect(exited).resolves.toBe('exited with SIGKILL');
    });

    it(`${shell}: a beating guard keeps its app`, async () => {
      const s = new ExecSupervisor({ command: 'sleep 60; true', stopTimeoutSecs: 1, pidFile: join(dir, `beat-${shell.slice(5)}.pid`), cluster: 'c', node: 'n7', log: silent, shell, watchdogSecs: 0.6 });
      await s.start({});
      await new Promise((r) => setTimeout(r, 2000));
      expect(await s.ready()).toBe(true);
      await s.stop();
    });
  }
});
