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
  it('systemd: passes the term through the manager environment, starts, probes, stops', async () => {
    // given
    const state = { running: false, stoppable: true };
    const { run, calls } = fakeRun(state);
    const sup = new ServiceSupervisor({ control: systemdControl('pc-app-server.service', run), stopTimeoutSecs: 1, log: silent });
    // when
    await sup.start({ FAILOVER_GUARD_TERM: '4' });
    const ready = await sup.ready();
    await sup.stop();
    // then
    expect(ready).toBe(true);
    expect(await sup.ready()).toBe(false);
    expect(calls).toEqual([
      'systemctl set-environment FAILOVER_GUARD_TERM=4',
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
    const sup = new ServiceSupervisor({ control: systemdControl('app.service', run), stopTimeoutSecs: 0.3, log: silent });
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
