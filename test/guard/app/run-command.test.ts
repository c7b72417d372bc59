/** @tier process: runs dash, bash and sleep for real (through runCommand's spawn). */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { runCommand } from '../../../lib/guard/app/run-command';
import { sleep, waitFor } from '../../harness/wait';

/** Whether a process is alive (signal 0). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runCommand (hooks and service-manager calls alike)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'run-command-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves with the exit code, the whole stdout and a failure naming the code and the last output', async () => {
    // when
    const ok = await runCommand(['/bin/sh', '-c', 'printf "ActiveState=active\\nSubState=running\\n"'], { timeoutMs: 10000 });
    const failed = await runCommand(['/bin/sh', '-c', 'echo partial; echo "no such unit" >&2; exit 5'], { timeoutMs: 10000 });
    const missing = await runCommand([join(dir, 'no-such-program')], { timeoutMs: 10000 });
    // then
    expect(ok).toEqual({ code: 0, stdout: 'ActiveState=active\nSubState=running\n' });
    expect(failed).toMatchObject({ code: 5, stdout: 'partial\n', failure: expect.stringMatching(/^exit code 5: .*no such unit/) });
    // (-1 from a spawn error, or setpriv's 127 where it runs the program)
    expect(missing.code).not.toBe(0);
    expect(missing.failure).toContain('no-such-program');
  });

  it('runCommand never starts a program once the run is aborted', async () => {
    // given
    const marker = join(dir, 'started');
    const abort = new AbortController();
    abort.abort();
    // when
    const run = runCommand(['/bin/sh', '-c', `touch ${marker}`], { env: {}, timeoutMs: 5000, signal: abort.signal });
    // then
    await expect(run).resolves.toMatchObject({ code: -1, failure: expect.stringContaining('aborted') });
    await sleep(200);
    expect(existsSync(marker)).toBe(false);
  });

  for (const shell of ['/bin/dash', '/bin/bash']) {
    it(`${shell}: at the timeout the whole process group is killed, a background child included, and the call settles`, async () => {
      // given: a command that leaves a child in its group and then hangs
      const pidFile = join(dir, 'child.pid');
      // when
      const r = await runCommand([shell, '-c', `sleep 60 & echo $! > ${pidFile}; wait`], { timeoutMs: 500 });
      // then: before, a service-manager call (execFile) killed only the shell: a child of a hung
      // systemctl or sc.exe outlived the call and the guard
      expect(r).toMatchObject({ code: -1, failure: expect.stringMatching(/^timed out after/) });
      expect(existsSync(pidFile)).toBe(true);
      const child = Number(readFileSync(pidFile, 'utf8'));
      await waitFor('the background child gone', () => !alive(child), 5000);
    });
  }
});

describe('runCommand timeouts', () => {
  it("takes a fractional timeout (a deadline's remainder) and runs the command, never rejecting", async () => {
    // given: what a kill bounded by `deadline - performance.now()` passes
    const timeoutMs = 2993.561107;
    // when
    const r = await runCommand(['/bin/echo', 'ok'], { timeoutMs });
    // then
    expect(r).toMatchObject({ code: 0, stdout: 'ok\n' });
  });
});
