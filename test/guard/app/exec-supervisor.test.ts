import { execFileSync, spawn, spawnSync, type ChildProcess } from 'child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ExecSupervisor, WATCHDOG_SCRIPT } from '../../../lib/guard/app/exec-supervisor';

import { silent } from '../../harness/silent-log';
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
    const exited = new Promise<[string, boolean | undefined]>((resolve) => s.onExit((d, b) => resolve([d, b])));
    await s.start({});
    // the app's own end: not the backstop's
    await expect(exited).resolves.toEqual(['exited with code 3', false]);
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


describe('ExecSupervisor', () => {
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
      const exited = new Promise<[string, boolean | undefined]>((r) => s.onExit((d, b) => r([d, b])));
      await s.start({});
      const pgid = Number(readFileSync(join(dir, `stall-${shell.slice(5)}.pid`), 'utf8'));
      expect(groupAlive(pgid)).toBe(true);
      // when: this event loop (the guard's) stalls until the app is gone, checked from the
      // blocked thread itself (the 20 s bound only ends a stall that a broken watchdog never would)
      const giveUp = Date.now() + 20000;
      while (groupAlive(pgid) && Date.now() < giveUp) blockFor(50);
      expect(groupAlive(pgid)).toBe(false);
      // then: the watchdog killed the app while the loop was stalled, and the guard hears it was the backstop
      await expect(exited).resolves.toEqual(['exited with SIGKILL: killed by the watchdog (heartbeat stopped)', true]);
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

/** The lines a child process prints, as they come; `next(re)` waits for the first line matching `re`. */
function lines(child: ChildProcess): { next: (re: RegExp) => Promise<RegExpExecArray> } {
  const seen: string[] = [];
  const waiting: Array<() => void> = [];
  let buf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    seen.push(...parts);
    waiting.splice(0).forEach((w) => w());
  });
  return {
    next: async (re) => {
      for (;;) {
        for (const l of seen) {
          const m = re.exec(l);
          if (m) return m;
        }
        await new Promise<void>((r) => waiting.push(r));
      }
    },
  };
}

/** The state letter of `pid` in /proc (`D`: uninterruptible sleep), undefined once it is gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

describe('ExecSupervisor: a fence is a crash', () => {
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

  for (const shell of ['/bin/dash', '/bin/bash']) {
    const tag = shell.slice(5);

    it(`${shell}: a guard stalled mid-stop (SIGSTOP) has its app killed at the stop's deadline by the watchdog`, async () => {
      // given: a stand-in guard running an app whose whole group ignores SIGTERM; its heartbeat
      // limit is 60 s, so only the stop's deadline can make the watchdog act within this test
      const pidFile = join(dir, `stall-stop-${tag}.pid`);
      const holder = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'exec-stop-holder.ts'), shell, `trap '' TERM; sleep 60; true`, pidFile], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(holder);
      const out = lines(holder);
      const pgid = Number((await out.next(/^started (\d+)/))[1]);
      expect(groupAlive(pgid)).toBe(true);
      // when: a stop with a 3 s deadline begins (SIGTERM, ignored), and the guard stalls at once,
      // long before its own SIGKILL is due (at the deadline less the 0.5 s reserve)
      holder.stdin!.write('stop 3000\n');
      await out.next(/^stopping/);
      holder.kill('SIGSTOP');
      // then: the app is gone although the guard never runs again (bounded at 20 s, a third of
      // the heartbeat limit: before, the watchdog acted only on the heartbeat, after 60 s)
      const giveUp = Date.now() + 20000;
      await until(() => !groupAlive(pgid) || Date.now() > giveUp);
      expect(groupAlive(pgid)).toBe(false);
      holder.kill('SIGKILL');
    });

    it(`${shell}: the watchdog kills the app at the lease's valid-until however the guard beats, and not while it moves on`, async () => {
      // given: a beating guard (this process) with an app
      const pidFile = join(dir, `valid-${tag}.pid`);
      const s = new ExecSupervisor({ command: 'sleep 60; true', stopTimeoutSecs: 1, pidFile, cluster: 'c', node: `v-${tag}`, log: silent, shell, watchdogSecs: 0.6 });
      const exited = new Promise<[string, boolean | undefined]>((r) => s.onExit((d, b) => r([d, b])));
      await s.start({});
      const pgid = Number(readFileSync(pidFile, 'utf8'));
      // when: renews keep moving valid-until 1 s ahead for 2 s …
      for (let i = 0; i < 10; i++) {
        s.setValidUntil(performance.now() + 1000);
        await new Promise((r) => setTimeout(r, 200));
      }
      // then: … the app runs
      expect(await s.ready()).toBe(true);
      // when: valid-until stops moving (no renew succeeded), the event loop still beating
      s.setValidUntil(performance.now() + 500);
      // then: the watchdog killed the group (the guard's own code never did), and the guard is
      // told so: that end is the fence, not an app failure
      await expect(exited).resolves.toEqual(['exited with SIGKILL: killed by the watchdog (kill instant passed)', true]);
      await until(() => !groupAlive(pgid));
      expect(existsSync(`${pidFile}.beat.killed`)).toBe(false);
    });

    it(`${shell}: a kill that comes while a stop runs and a start waits preempts both; the start launches nothing`, async () => {
      // given: an app that ignores SIGTERM, a stop with a 60 s deadline under way, a start behind it
      const marker = join(dir, `preempt-${tag}`);
      const pidFile = join(dir, `preempt-${tag}.pid`);
      const s = new ExecSupervisor({ command: `trap '' TERM; touch ${marker}; while true; do sleep 0.1; done`, stopTimeoutSecs: 1, pidFile, cluster: 'c', node: `p-${tag}`, log: silent, shell });
      await s.start({});
      const pgid = Number(readFileSync(pidFile, 'utf8'));
      await until(() => existsSync(marker));
      const stopping = s.stop(inSecs(60));
      const starting = s.start({});
      // when
      await s.kill(inSecs(5));
      // then: the kill did not wait behind the stop (which would SIGKILL only after 59 s) …
      expect(groupAlive(pgid)).toBe(false);
      await stopping;
      // … and the start issued before it was aborted without a launch
      await expect(starting).rejects.toThrow(/aborted/);
      expect(existsSync(pidFile)).toBe(false);
      expect(await s.ready()).toBe(false);
    });
  }

  for (const shell of ['/bin/dash', '/bin/bash']) {
    const tag = shell.slice(5);
    it(`${shell}: kill() also ends a process that left the group (setsid), found by its start's mark; a hook's or notify's process is left alone`, async () => {
      // given: an app that starts a daemon in a session of its own, and a stranger with the same
      // FAILOVER_GUARD_* environment (as a hook or notify.command of this term has)
      const pidFile = join(dir, `escape-${tag}.pid`);
      const daemonPid = join(dir, `escape-${tag}.daemon`);
      const env = { FAILOVER_GUARD_CLUSTER: 'c', FAILOVER_GUARD_NODE: `e-${tag}`, FAILOVER_GUARD_TERM: '7' };
      const stranger = spawn('/bin/sh', ['-c', 'sleep 60'], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
      children.push(stranger);
      const s = new ExecSupervisor({ command: `setsid sh -c 'echo $$ > ${daemonPid}; exec sleep 60' & exec sleep 60`, stopTimeoutSecs: 1, pidFile, cluster: 'c', node: `e-${tag}`, log: silent, shell });
      await s.start(env);
      await until(() => existsSync(daemonPid) && readFileSync(daemonPid, 'utf8').endsWith('\n'));
      const daemon = Number(readFileSync(daemonPid, 'utf8'));
      const pgid = Number(readFileSync(pidFile, 'utf8'));
      expect(procState(daemon)).toBeDefined();
      expect(groupAlive(daemon)).toBe(true); // its own group
      // when
      await s.kill(inSecs(5));
      // then: the daemon is gone with the group (before, it ran on); the stranger still runs
      expect(groupAlive(pgid)).toBe(false);
      expect(alive(daemon)).toBe(false);
      expect(alive(stranger.pid!)).toBe(true);
    });
  }

  for (const shell of ['/bin/dash', '/bin/bash']) {
    const tag = shell.slice(5);
    it(`${shell}: when the guard dies, the watchdog also kills what the app started outside its group`, async () => {
      // given: a stand-in guard, an app with a daemon in a session of its own
      const guard = spawn('sleep', ['60'], { stdio: 'ignore' });
      children.push(guard);
      const pidFile = join(dir, `wd-escape-${tag}.pid`);
      const daemonPid = join(dir, `wd-escape-${tag}.daemon`);
      const s = new ExecSupervisor({ command: `setsid sh -c 'echo $$ > ${daemonPid}; exec sleep 60' & exec sleep 60`, stopTimeoutSecs: 1, pidFile, cluster: 'c', node: `w-${tag}`, log: silent, shell, guardPid: guard.pid });
      await s.start({});
      await until(() => existsSync(daemonPid) && readFileSync(daemonPid, 'utf8').endsWith('\n'));
      const daemon = Number(readFileSync(daemonPid, 'utf8'));
      const pgid = Number(readFileSync(pidFile, 'utf8'));
      // when
      guard.kill('SIGKILL');
      // then: the group and the daemon are gone (before, the daemon ran on)
      await until(() => !groupAlive(pgid) && !alive(daemon));
    });
  }

  // A real uninterruptible sleep: a process whose request a FUSE server has read but not answered
  // waits in `D` and survives SIGKILL until the answer (or the server's end) comes, as on a hung
  // NFS/SMB share. Mounting FUSE needs root and /dev/fuse (a CI machine has both).
  const fuse = existsSync('/dev/fuse') && process.getuid?.() === 0 ? it : it.skip;
  for (const shell of ['/bin/dash', '/bin/bash']) {
    const tag = shell.slice(5);
    fuse(`${shell}: kill() resolves only once every group member is gone: one stuck in uninterruptible sleep holds it`, async () => {
      // given: an app whose background child is stuck on the never-answering mount
      const mnt = mkdtempSync(join(dir, `fuse-${tag}-`));
      const server = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'stuck-fuse.ts'), mnt], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(server);
      const out = lines(server);
      try {
        const ended = new Promise<never>((_, reject) => server.once('exit', (code) => reject(new Error(`stuck-fuse ended (exit ${code}) before mounting: it needs root and /dev/fuse`))));
        await Promise.race([out.next(/^mounted/), ended]);
        const pidFile = join(dir, `fuse-${tag}.pid`);
        const s = new ExecSupervisor({ command: `stat ${mnt}/x >/dev/null 2>&1 & sleep 60`, stopTimeoutSecs: 1, pidFile, cluster: 'c', node: `f-${tag}`, log: silent, shell });
        await s.start({});
        const pgid = Number(readFileSync(pidFile, 'utf8'));
        const stuck = Number((await out.next(/^request \d+ from (\d+)/))[1]);
        // when: killed with a 1 s deadline
        const first = s.kill(inSecs(1));
        // then: the main process dies, the stuck member does not (now in D), and the kill rejects naming it
        await expect(first).rejects.toThrow(new RegExp(`process group ${pgid} is not empty at the deadline: ${stuck} \\(D\\)`));
        expect(procState(stuck)).toBe('D');
        // … and no new start launches while it lives
        await expect(s.start({})).rejects.toThrow(/is not empty at the deadline/);
        // when: killed again with a long deadline, and the share comes back (the server ends)
        let settled = false;
        const second = s.kill(inSecs(60)).finally(() => (settled = true));
        await new Promise((r) => setTimeout(r, 300));
        expect(settled).toBe(false);
        server.kill('SIGKILL');
        // then: the kill resolves once the stuck member is gone too
        await second;
        expect(groupAlive(pgid)).toBe(false);
      } finally {
        server.kill('SIGKILL');
        spawnSync('umount', ['-l', mnt]);
      }
    });
  }
});
