import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ServiceSupervisor, systemdControl, windowsServiceControl, type RunCommand } from '../../lib/guard/service-supervisor';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A fake service manager: records commands, answers like systemctl / sc.exe. */
function fakeRun(state: { running: boolean; stoppable: boolean }) {
  const calls: string[] = [];
  const run: RunCommand = async (file, args) => {
    calls.push([file, ...args].join(' '));
    const cmd = args[0];
    if (cmd === 'start') state.running = true;
    if (cmd === 'stop' && state.stoppable) state.running = false;
    if (cmd === 'kill' || file === 'taskkill.exe') state.running = false;
    if (cmd === 'is-active') return { code: state.running ? 0 : 3, stdout: '' };
    if (cmd === 'query') return { code: 0, stdout: `SERVICE_NAME: PCAppServer\n        STATE              : ${state.running ? '4  RUNNING' : '1  STOPPED'}\n` };
    return { code: 0, stdout: '' };
  };
  return { run, calls };
}

describe('ServiceSupervisor', () => {
  it('systemd: passes the term through the per-start environment file, starts, probes, stops and removes the file', async () => {
    // given
    const state = { running: false, stoppable: true };
    const { run, calls } = fakeRun(state);
    const dir = mkdtempSync(join(tmpdir(), 'fg-env-'));
    const envFile = join(dir, 'run', 'pc-app-server.service.env');
    const sup = new ServiceSupervisor({ control: systemdControl('pc-app-server.service', run, 60, envFile), stopTimeoutSecs: 1, log: silent });
    // when
    await sup.start({ FAILOVER_GUARD_TERM: '4', FAILOVER_GUARD_NODE: 'n1' });
    const written = readFileSync(envFile, 'utf8');
    const mode = statSync(envFile).mode & 0o777;
    const ready = await sup.ready();
    await sup.stop();
    // then
    expect(written).toBe('FAILOVER_GUARD_TERM=4\nFAILOVER_GUARD_NODE=n1\n');
    expect(mode).toBe(0o600);
    expect(existsSync(envFile)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
    expect(ready).toBe(true);
    expect(await sup.ready()).toBe(false);
    expect(calls).toEqual([
      'systemctl start --no-block pc-app-server.service',
      'systemctl is-active --quiet pc-app-server.service',
      'systemctl stop --no-block pc-app-server.service',
      'systemctl is-active --quiet pc-app-server.service',
      'systemctl is-active --quiet pc-app-server.service',
      'systemctl is-active --quiet pc-app-server.service',
    ]);
  });

  it('systemd: kills the unit when it does not stop within the stop timeout', async () => {
    const state = { running: true, stoppable: false };
    const { run, calls } = fakeRun(state);
    const sup = new ServiceSupervisor({ control: systemdControl('app.service', run, 60, join(tmpdir(), `fg-env-${process.pid}.env`)), stopTimeoutSecs: 0.3, log: silent });
    await sup.stop();
    expect(calls).toContain('systemctl kill --signal=SIGKILL app.service');
    expect(state.running).toBe(false);
  });

  it('windows-service: sc.exe start/query/stop, taskkill as last resort', async () => {
    // given
    const state = { running: false, stoppable: false };
    const { run, calls } = fakeRun(state);
    const sup = new ServiceSupervisor({ control: windowsServiceControl('PCAppServer', run), stopTimeoutSecs: 0.3, log: silent });
    // when
    await sup.start({ FAILOVER_GUARD_TERM: '1' });
    expect(await sup.ready()).toBe(true);
    await sup.stop();
    // then
    expect(calls[0]).toBe('sc.exe start PCAppServer');
    expect(calls).toContain('sc.exe stop PCAppServer');
    expect(calls).toContain('taskkill.exe /F /FI SERVICES eq PCAppServer');
    expect(await sup.ready()).toBe(false);
  });
});
