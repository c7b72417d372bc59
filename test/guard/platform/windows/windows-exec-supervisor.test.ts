/**
 * WindowsExecSupervisor's logic on Linux: a stand-in `cmd.exe` (ComSpec) runs the command with
 * sh, a stand-in taskkill signals the process. The real cmd.exe/taskkill/job-object path runs
 * under wine in windows-wine.test.ts; this covers what it shares with ExecSupervisor
 * (ProcessSupervisor in supervisor.ts): the start/stop queue, exit reports, the stop timeout.
 * @tier process (the supervisor spawns the stand-ins)
 */
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { RunCommand } from '../../../../lib/guard/app/run-command';
import { WindowsExecSupervisor } from '../../../../lib/guard/platform/windows/windows-exec-supervisor';
import { silent } from '../../../harness/silent-log';

const dir = mkdtempSync(join(tmpdir(), 'win-exec-sup-'));

/** `cmd.exe /d /s /c "command"` → `sh -c command` */
const fakeCmd = join(dir, 'cmd.exe');
writeFileSync(fakeCmd, '#!/bin/sh\ncmd=$4; cmd=${cmd#\\"}; cmd=${cmd%\\"}\nexec /bin/sh -c "$cmd"\n');
chmodSync(fakeCmd, 0o755);

/** taskkill: /F → SIGKILL; without /F it "asks" with SIGTERM (a console app has no window to close). */
function fakeTaskkill(calls: string[]): RunCommand {
  return async ([, ...args]) => {
    calls.push(args.join(' '));
    const pid = Number(args[args.indexOf('/PID') + 1]);
    try {
      process.kill(pid, args.includes('/F') ? 'SIGKILL' : 'SIGTERM');
      return { code: 0, stdout: '' };
    } catch {
      return { code: 128, stdout: '' };
    }
  };
}

async function until(what: () => boolean): Promise<void> {
  while (!what()) await new Promise((r) => setTimeout(r, 20));
}

const savedComSpec = process.env.ComSpec;
beforeAll(() => (process.env.ComSpec = fakeCmd));
afterAll(() => (savedComSpec === undefined ? delete process.env.ComSpec : (process.env.ComSpec = savedComSpec)));

describe('WindowsExecSupervisor', () => {
  it('reports an app that exits by itself, with its code', async () => {
    const s = new WindowsExecSupervisor({ command: 'exit 3', stopTimeoutSecs: 1, log: silent, run: fakeTaskkill([]) });
    const exited = new Promise<string>((resolve) => s.onExit(resolve));
    await s.start({});
    await expect(exited).resolves.toBe('exited with code 3');
  });

  it('stops politely first, forcefully before the deadline, and does not report its own stop as an exit', async () => {
    // given: an app that ignores the polite request once its trap is set
    const calls: string[] = [];
    const marker = join(dir, 'trapped');
    const s = new WindowsExecSupervisor({ command: `trap '' TERM; touch ${marker}; while true; do sleep 0.1; done`, stopTimeoutSecs: 0.3, killReserveMs: 300, log: silent, run: fakeTaskkill(calls) });
    const exits: string[] = [];
    s.onExit((d) => exits.push(d));
    await s.start({});
    await until(() => existsSync(marker));
    // when
    await s.stop(performance.now() + 600);
    // then
    expect(calls.map((c) => c.replace(/\d+$/, 'PID'))).toEqual(['/T /PID PID', '/F /T /PID PID']);
    expect(await s.ready()).toBe(false);
    expect(exits).toEqual([]);
  });

  it('a start while a stop still runs waits for the stop, then starts (one queue)', async () => {
    // given: a running app
    const s = new WindowsExecSupervisor({ command: 'sleep 60', stopTimeoutSecs: 1, log: silent, run: fakeTaskkill([]) });
    await s.start({ FAILOVER_GUARD_TERM: '1' });
    // when: stop and start issued together
    const stopping = s.stop(performance.now() + 5000);
    const starting = s.start({ FAILOVER_GUARD_TERM: '2' });
    await stopping;
    await starting;
    // then: the start was not swallowed by the stop's still-running app
    expect(await s.ready()).toBe(true);
    await s.stop(performance.now() + 5000);
    expect(await s.ready()).toBe(false);
  });

  it('kill(): taskkill /F /T at once (never the polite ask), not waiting behind a stop in progress; no exit reported', async () => {
    // given: an app that ignores the polite request, and a stop with a 60 s deadline under way
    const calls: string[] = [];
    const marker = join(dir, 'trapped-kill');
    const s = new WindowsExecSupervisor({ command: `trap '' TERM; touch ${marker}; while true; do sleep 0.1; done`, stopTimeoutSecs: 60, log: silent, run: fakeTaskkill(calls) });
    const exits: string[] = [];
    s.onExit((d) => exits.push(d));
    await s.start({});
    await until(() => existsSync(marker));
    const stopping = s.stop(performance.now() + 60000);
    await until(() => calls.length === 1);
    // when
    await s.kill(performance.now() + 5000);
    // then: the tree was killed by force at once (the stop's polite ask came before; whatever the
    // stop does once the app is gone is by force too)
    await stopping;
    const seen = calls.map((c) => c.replace(/\d+$/, 'PID'));
    expect(seen.slice(0, 2)).toEqual(['/T /PID PID', '/F /T /PID PID']);
    expect(new Set(seen.slice(1))).toEqual(new Set(['/F /T /PID PID']));
    expect(await s.ready()).toBe(false);
    expect(exits).toEqual([]);
  });
});
