/**
 * windows-service mode, the parts that run anywhere: the term written to the app service's
 * Environment (REG_MULTI_SZ) before each start, and the app watcher — real processes (the
 * bundled guard's `watch-service`, re-launched detached) holding a pipe from the guard, with
 * sc.exe / reg.exe stood in for by scripts on PATH that log their arguments.
 */
import { spawn, type ChildProcess } from 'child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { killServiceTree } from '../../../../lib/guard/platform/windows/windows-app-watch';
import { mergeEnvironment, parseEnvironmentValue, setServiceEnvironment } from '../../../../lib/guard/platform/windows/windows-service-env';
import { bundleGuard } from '../../../harness/guard-bundle';

jest.setTimeout(60000);

describe('service environment (REG_MULTI_SZ)', () => {
  it("keeps the admin's entries and replaces the guard's", () => {
    // given
    const existing = parseEnvironmentValue('\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\PCAppServer\r\n    Environment    REG_MULTI_SZ    JAVA_OPTS=-Xmx2g\\0FAILOVER_GUARD_TERM=6\\0TZ=UTC\r\n');
    // when
    const merged = mergeEnvironment(existing, { FAILOVER_GUARD_TERM: '7', FAILOVER_GUARD_NODE: 'node-a' });
    // then
    expect(existing).toEqual(['JAVA_OPTS=-Xmx2g', 'FAILOVER_GUARD_TERM=6', 'TZ=UTC']);
    expect(merged).toEqual(['JAVA_OPTS=-Xmx2g', 'TZ=UTC', 'FAILOVER_GUARD_NODE=node-a', 'FAILOVER_GUARD_TERM=7']);
  });

  it('writes the value with reg.exe and fails loudly when it cannot', async () => {
    const calls: string[][] = [];
    const run = async ([file, ...args]: readonly string[]) => {
      calls.push([file, ...args]);
      return { code: args[0] === 'query' ? 1 : 0, stdout: '' };
    };
    await setServiceEnvironment('PCAppServer', { FAILOVER_GUARD_TERM: '3' }, run);
    expect(calls[1]).toEqual(['reg.exe', 'add', 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\PCAppServer', '/v', 'Environment', '/t', 'REG_MULTI_SZ', '/d', 'FAILOVER_GUARD_TERM=3', '/f']);
    await expect(setServiceEnvironment('PCAppServer', { FAILOVER_GUARD_TERM: '3' }, async () => ({ code: 5, stdout: '' }))).rejects.toThrow(/reg\.exe add .* failed \(exit 5\)/);
    expect(() => mergeEnvironment([], { FAILOVER_GUARD_TERM: 'a\\0b' })).toThrow(/FAILOVER_GUARD_TERM/);
  });
});

describe('app watcher (watch-service)', () => {
  let dir: string;
  let bundle: string;
  let env: NodeJS.ProcessEnv;
  const holders: ChildProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-watch-'));
    bundle = bundleGuard(dir);
    // sc.exe answers "STOPPED" to query; every call is logged
    for (const tool of ['sc.exe', 'reg.exe', 'taskkill.exe']) {
      const file = join(dir, tool);
      writeFileSync(file, `#!/bin/sh\nprintf "%s\\n" "${tool} $*" >> "$FC_TOOL_LOG"\n[ "$1" = query ] && echo "        STATE              : 1  STOPPED"\nexit 0\n`);
      chmodSync(file, 0o755);
    }
  });

  afterAll(() => {
    holders.forEach((h) => h.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });

  async function startHolder(name: string) {
    const log = join(dir, `${name}.log`);
    const marker = join(dir, `${name}.watch`);
    env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, FC_TOOL_LOG: log };
    const holder = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'windows-watch-holder.ts'), bundle, marker], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    holders.push(holder);
    await new Promise<void>((resolve) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('started') && resolve()));
    await waitFor(() => existsSync(marker));
    return { holder, log, marker };
  }

  async function waitFor(cond: () => boolean, ms = 20000) {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const lines = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

  it('kills the app tree when the guard is killed, and only then', async () => {
    // given: the term went to the service environment before the start
    const { holder, log, marker } = await startHolder('killed');
    expect(lines(log)).toContain('reg.exe add HKLM\\SYSTEM\\CurrentControlSet\\Services\\PCAppServer /v Environment /t REG_MULTI_SZ /d FAILOVER_GUARD_NODE=node-a\\0FAILOVER_GUARD_TERM=7 /f');
    expect(lines(log).some((l) => l.startsWith('sc.exe'))).toBe(false);
    // when
    holder.kill('SIGKILL');
    // then
    await waitFor(() => !existsSync(marker));
    expect(lines(log)).toEqual(expect.arrayContaining(['taskkill.exe /F /T /FI SERVICES eq PCAppServer', 'sc.exe query PCAppServer']));
  });

  it('kills the app tree at the valid-until instant while the guard is suspended', async () => {
    // given: a renew said the lease covers the app 1.5 s more
    const { holder, log, marker } = await startHolder('suspended');
    holder.stdin!.write('valid 1500\n');
    await new Promise<void>((resolve) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('valid') && resolve()));
    // when: the guard stops running (a hung event loop, a paused process) but its pipe stays open
    holder.kill('SIGSTOP');
    try {
      // then
      await waitFor(() => lines(log).includes('taskkill.exe /F /T /FI SERVICES eq PCAppServer'), 15000);
      await waitFor(() => !existsSync(marker));
    } finally {
      holder.kill('SIGCONT');
    }
  });

  it('tells the guard before it kills at the valid-until: the app’s end that follows is reported as the fence', async () => {
    // given: a running guard whose renews stopped (valid for 0.5 s more, then nothing)
    const { holder, log } = await startHolder('expired');
    const out: string[] = [];
    holder.stdout!.on('data', (d: Buffer) => out.push(...d.toString().trim().split('\n')));
    holder.stdin!.write('valid 500\n');
    // when: the watcher kills at the valid-until, and the guard then notices the service stopped
    await waitFor(() => lines(log).includes('taskkill.exe /F /T /FI SERVICES eq PCAppServer'), 15000);
    await new Promise((r) => setTimeout(r, 300));
    holder.stdin!.write('appexit\n');
    // then
    await waitFor(() => out.some((l) => l.startsWith('exit ')));
    expect(out.find((l) => l.startsWith('exit '))).toBe('exit service PCAppServer stopped: killed by the app watcher (valid-until passed) true');
    // when: a later end, not the watcher's
    holder.stdin!.write('appexit\n');
    await waitFor(() => out.filter((l) => l.startsWith('exit ')).length === 2);
    expect(out.filter((l) => l.startsWith('exit '))[1]).toBe('exit service PCAppServer stopped false');
    holder.kill('SIGKILL');
  });

  it('does not fence while later instants keep coming', async () => {
    // given
    const { holder, log } = await startHolder('renewing');
    // when: renews every 300 ms, each covering 1 s
    for (let i = 0; i < 8; i++) {
      holder.stdin!.write('valid 1000\n');
      await new Promise((r) => setTimeout(r, 300));
    }
    // then
    expect(lines(log).some((l) => l.startsWith('taskkill'))).toBe(false);
    holder.stdin!.write('stop\n');
    await new Promise((r) => holder.once('exit', r));
  });

  it('does nothing when the guard stopped the app itself', async () => {
    // given
    const { holder, log, marker } = await startHolder('dismissed');
    // when
    holder.stdin!.write('stop\n');
    await new Promise((r) => holder.once('exit', r));
    // then
    await waitFor(() => !existsSync(marker));
    expect(lines(log).some((l) => l.startsWith('sc.exe'))).toBe(false);
  });
});

describe('killServiceTree', () => {
  const noSleep = async () => undefined;

  it('keeps killing through failing kills until the service is gone', async () => {
    // given: the first taskkill fails, the service stops after the second
    let kills = 0;
    const killTree = async () => {
      kills++;
      if (kills === 1) throw new Error('taskkill failed');
    };
    const state = async () => ({ state: kills >= 2 ? ('stopped' as const) : ('running' as const), detail: '' });
    // when / then
    await expect(killServiceTree({ state }, killTree, 10000, noSleep)).resolves.toBe(true);
    expect(kills).toBe(2);
  });

  it('reports an unconfirmed kill when the state stays unknown past the bound', async () => {
    const state = async () => ({ state: 'unknown' as const, detail: '' });
    await expect(killServiceTree({ state }, async () => undefined, 0, noSleep)).resolves.toBe(false);
  });
});

