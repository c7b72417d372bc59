import { execFileSync, spawn, spawnSync } from 'child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
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

/** Polls `what` until it holds (the test's own timeout bounds the wait: no timing is asserted). */
async function until(what: () => boolean): Promise<void> {
  while (!what()) await new Promise((r) => setTimeout(r, 20));
}

/**
 * A FIFO for an app's process to write to: its first line, and `closed` once every writer has
 * exited (end-of-file), so a test waits for a process's death as an event, not a time.
 */
function openFifo(name: string): { path: string; line: Promise<string>; closed: Promise<void> } {
  const path = join(dir, `${name}.fifo`);
  execFileSync('mkfifo', [path]);
  const stream = createReadStream(path, { encoding: 'utf8' });
  let text = '';
  const line = new Promise<string>((resolve) => stream.on('data', (d) => (text += d) && text.includes('\n') && resolve(text.split('\n')[0])));
  const closed = new Promise<void>((resolve, reject) => {
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  return { path, line, closed };
}

/** Blocks this thread (and so the event loop) for `ms`, as a stalled guard would be. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function sup(command: string, stopTimeoutSecs = 1, node = 'n1') {
  return new ExecSupervisor({ command, stopTimeoutSecs, killReserveMs: 1000, pidFile: join(dir, `${node}.pid`), cluster: 'c', node, log: silent });
}

/** A stop's deadline: `secs` from now (monotonic). */
const inSecs = (secs: number): number => performance.now() + secs * 1000;

describe('ExecSupervisor', () => {
  it('passes the env, stops with SIGTERM the whole process group', async () => {
    // given: a shell whose background child reports the term into a FIFO and holds it open
    const fifo = openFifo('bg');
    const s = sup(`(echo "$FAILOVER_GUARD_TERM"; exec sleep 60) > ${fifo.path} & wait`);
    // when
    await s.start({ FAILOVER_GUARD_TERM: '9', FAILOVER_GUARD_CLUSTER: 'c', FAILOVER_GUARD_NODE: 'n1' });
    const term = await fifo.line;
    expect(await s.ready()).toBe(true);
    await s.stop(inSecs(5));
    // then: the background child is gone too (its FIFO reaches end-of-file when its last writer
    // exits: an event, however long a loaded machine takes to deliver the signal)
    expect(term).toBe('9');
    await fifo.closed;
    expect(await s.ready()).toBe(false);
  });

  it('SIGKILLs an app that ignores SIGTERM at the deadline less the kill reserve', async () => {
    // given: an app that says when its SIGTERM trap is in place (a stop before that would end it at once)
    const marker = join(dir, 'trapped');
    const s = sup(`trap '' TERM; touch ${marker}; while true; do sleep 0.1; done`, 0.5);
    await s.start({});
    await until(() => existsSync(marker));
    // when
    const t0 = Date.now();
    await s.stop(inSecs(1.5));
    // then: it took the stop timeout, not less
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
    // (spawn returns once the child has exec'd, so /proc/<pid>/environ is already the app's)
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
    const stopping = s.stop(inSecs(5));
    const starting = s.start({});
    await stopping;
    await starting;
    // then: running again
    expect(await s.ready()).toBe(true);
    await s.stop(inSecs(5));
  });

  for (const shell of ['/bin/dash', '/bin/bash']) {
    it(`${shell}: a kill -9 of the guard takes down an app the shell forked`, async () => {
      // given: a stand-in guard process, and a command the shell must fork (more follows it)
      const guard = spawn('sleep', ['60'], { stdio: 'ignore' });
      const s = new ExecSupervisor({ command: 'sleep 60; true', stopTimeoutSecs: 1, pidFile: join(dir, `fork-${shell.slice(5)}.pid`), cluster: 'c', node: 'n5', log: silent, shell, guardPid: guard.pid });
      await s.start({});
      const pgid = Number(readFileSync(join(dir, `fork-${shell.slice(5)}.pid`), 'utf8'));
      expect(groupAlive(pgid)).toBe(true);
      // when
      guard.kill('SIGKILL');
      // then: the watchdog kills the group (waited for, not timed)
      await until(() => !groupAlive(pgid));
    });

    it(`${shell}: a stalled guard (event loop blocked past W) has its app killed from outside`, async () => {
      // given
      const s = new ExecSupervisor({ command: 'sleep 60; true', stopTimeoutSecs: 1, pidFile: join(dir, `stall-${shell.slice(5)}.pid`), cluster: 'c', node: 'n6', log: silent, shell, watchdogSecs: 0.6 });
      const exited = new Promise<string>((r) => s.onExit(r));
      await s.start({});
      const pgid = Number(readFileSync(join(dir, `stall-${shell.slice(5)}.pid`), 'utf8'));
      expect(groupAlive(pgid)).toBe(true);
      // when: this event loop (the guard's) stalls until the app is gone, checked from the
      // blocked thread itself (the 20 s bound only ends a stall that a broken watchdog never would)
      const giveUp = Date.now() + 20000;
      while (groupAlive(pgid) && Date.now() < giveUp) blockFor(50);
      expect(groupAlive(pgid)).toBe(false);
      // then: the watchdog killed the app while the loop was stalled, and the guard hears about it
      await expect(exited).resolves.toBe('exited with SIGKILL');
    });

    it(`${shell}: a beating guard keeps its app`, async () => {
      const s = new ExecSupervisor({ command: 'sleep 60; true', stopTimeoutSecs: 1, pidFile: join(dir, `beat-${shell.slice(5)}.pid`), cluster: 'c', node: 'n7', log: silent, shell, watchdogSecs: 0.6 });
      await s.start({});
      await new Promise((r) => setTimeout(r, 2000));
      expect(await s.ready()).toBe(true);
      await s.stop(inSecs(5));
    });
  }
});
