import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { RunCommand } from '../../../lib/guard/app/run-command';
import { environmentFileText, sliceCgroup, systemdControl, systemdState } from '../../../lib/guard/platform/systemd/systemd-control';
import { windowsServiceControl } from '../../../lib/guard/platform/windows/windows-service-control';
import { ServiceSupervisor } from '../../../lib/guard/app/service-supervisor';
import { FakeClock, flush } from '../../harness/fake-clock';

import { silent } from '../../harness/silent-log';

/** A fake systemd unit answering systemctl as systemd 252 does. */
class FakeUnit {
  active: 'inactive' | 'activating' | 'active' | 'deactivating' | 'failed' = 'inactive';
  mainPid = 0;
  starts = 0;
  /** false: `stop` leaves the unit deactivating (an app that ignores SIGTERM, TimeoutStopSec long). */
  stoppable = true;
  /** When set, every systemctl call fails like a hung or broken systemctl (timeout → -1). */
  broken = false;
  /** Calls of this subcommand wait until {@link release} (a systemctl that hangs for a while). */
  holdOn?: string;
  private held: Array<() => void> = [];
  release(): void {
    this.holdOn = undefined;
    this.held.splice(0).forEach((r) => r());
  }
  readonly calls: string[] = [];
  readonly run: RunCommand = async ([file, ...args]) => {
    this.calls.push([file, ...args].join(' '));
    if (this.broken) return { code: -1, stdout: '' };
    if (this.holdOn === args[0]) await new Promise<void>((r) => this.held.push(r));
    switch (args[0]) {
      case 'start':
        this.active = 'active';
        this.mainPid = 4242;
        this.starts++;
        break;
      case 'stop':
        if (this.active === 'inactive' || this.active === 'failed') break;
        if (this.stoppable) this.exit('inactive');
        else this.active = 'deactivating';
        break;
      case 'kill':
        this.exit('failed');
        break;
      case 'reset-failed':
        if (this.active === 'failed') this.active = 'inactive';
        break;
      case 'is-active':
        return { code: this.active === 'active' ? 0 : 3, stdout: `${this.active}\n` };
      case 'show':
        return { code: 0, stdout: `MainPID=${this.mainPid}\nExecMainStartTimestampMonotonic=${this.starts * 1000}\nActiveState=${this.active}\nSubState=x\nSlice=system.slice\nControlGroup=${this.active === 'inactive' || this.active === 'failed' ? '' : '/system.slice/app.service'}\n` };
    }
    return { code: 0, stdout: '' };
  };
  exit(state: 'inactive' | 'failed'): void {
    this.active = state;
    this.mainPid = 0;
  }
}

function systemd(unit: FakeUnit, stopTimeoutSecs = 2) {
  const clock = new FakeClock();
  const envDir = mkdtempSync(join(tmpdir(), 'svc-env-'));
  // cgroupRoot: a directory without cgroups, so the manager's word decides (the booted-node test reads real cgroups)
  const sup = new ServiceSupervisor({ control: systemdControl('app.service', { run: unit.run, envDir, cgroupRoot: envDir }), stopTimeoutSecs, killReserveMs: 500, log: silent, clock, watchMs: 1000 });
  /** The deadline a stop gets: now + the stop timeout. */
  const by = () => clock.now() + stopTimeoutSecs * 1000;
  return { sup, clock, envDir, by };
}

/** Runs `p` while advancing the fake clock in steps until it settles. */
async function settle<T>(clock: FakeClock, p: Promise<T>, stepMs = 100, maxMs = 60000): Promise<T> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let t = 0; t < maxMs && !done; t += stepMs) await clock.advance(stepMs);
  return p;
}

/** A systemd supervisor over a fake unit and a cgroup v2 tree (a directory standing in for /sys/fs/cgroup) in which the unit's cgroup is populated. */
function withCgroup() {
  const unit = new FakeUnit();
  const clock = new FakeClock();
  const root = mkdtempSync(join(tmpdir(), 'cgroup-'));
  const cg = join(root, 'system.slice', 'app.service');
  mkdirSync(cg, { recursive: true });
  writeFileSync(join(root, 'cgroup.controllers'), '');
  writeFileSync(join(cg, 'cgroup.events'), 'populated 1\nfrozen 0\n');
  const sup = new ServiceSupervisor({ control: systemdControl('app.service', { run: unit.run, envDir: root, cgroupRoot: root }), stopTimeoutSecs: 2, log: silent, clock });
  return { unit, clock, cg, sup };
}

describe('ServiceSupervisor: systemd', () => {
  it('passes the term through a per-start 0600 environment file (never set-environment), starts, stops', async () => {
    // given
    const unit = new FakeUnit();
    const { sup, clock, envDir, by } = systemd(unit);
    const file = join(envDir, 'app.service.env');
    // when
    await sup.start({ FAILOVER_GUARD_TERM: '4', FAILOVER_GUARD_NODE: 'a' });
    // then
    expect(readFileSync(file, 'utf8')).toBe('FAILOVER_GUARD_TERM="4"\nFAILOVER_GUARD_NODE="a"\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(unit.calls.some((c) => c.includes('set-environment'))).toBe(false);
    expect(unit.calls).toContain('systemctl start --no-block app.service');
    expect(await sup.ready()).toBe(true);
    await settle(clock, sup.stop(by()));
    expect(await sup.ready()).toBe(false);
    expect(existsSync(file)).toBe(false);
  });

  it('a unit still deactivating is running: killed before the stop deadline, by the kill reserve (monotonic clock)', async () => {
    // given: the app ignores SIGTERM
    const unit = new FakeUnit();
    const { sup, clock, by } = systemd(unit, 2);
    await sup.start({ FAILOVER_GUARD_TERM: '1' });
    unit.stoppable = false;
    // when
    const stopped = sup.stop(by());
    await clock.advance(1400);
    // then: not killed before the deadline less the reserve …
    expect(unit.calls).not.toContain('systemctl kill --signal=SIGKILL --kill-whom=all app.service');
    expect(unit.active).toBe('deactivating');
    // … killed at it, and the stop completes once the unit is gone
    await settle(clock, stopped);
    expect(unit.calls).toContain('systemctl kill --signal=SIGKILL --kill-whom=all app.service');
    expect(unit.active).toBe('failed');
  });

  it('systemctl errors or timeouts count as running: the stop kills and fails rather than report stopped', async () => {
    // given
    const unit = new FakeUnit();
    const { sup, clock, by } = systemd(unit, 1);
    await sup.start({ FAILOVER_GUARD_TERM: '1' });
    // when: systemctl stops answering
    unit.broken = true;
    const stopping = settle(clock, sup.stop(by()));
    // then
    await expect(stopping).rejects.toThrow(/app.service is not known to be gone at the deadline/);
    expect(unit.calls).toContain('systemctl kill --signal=SIGKILL --kill-whom=all app.service');
    expect(await sup.ready()).toBe(false);
  });

  it('notices the app exiting by itself within one watch period and reports it', async () => {
    // given
    const unit = new FakeUnit();
    const { sup, clock } = systemd(unit);
    const exits: string[] = [];
    sup.onExit((d) => exits.push(d));
    await sup.start({ FAILOVER_GUARD_TERM: '1' });
    await clock.advance(3000);
    expect(exits).toEqual([]);
    // when: the app crashes (Restart=no: the unit ends failed)
    unit.exit('failed');
    await clock.advance(1000);
    // then
    expect(exits).toEqual(['service app.service failed/x pid 0']);
  });

  it('notices an app that ends cleanly (inactive) after it started, even if never seen running', async () => {
    const unit = new FakeUnit();
    const { sup, clock } = systemd(unit);
    const exits: string[] = [];
    sup.onExit((d) => exits.push(d));
    await sup.start({ FAILOVER_GUARD_TERM: '1' });
    unit.exit('inactive');
    await clock.advance(1000);
    expect(exits).toHaveLength(1);
  });

  it('a stop is not reported as an exit', async () => {
    const unit = new FakeUnit();
    const { sup, clock, by } = systemd(unit);
    const exits: string[] = [];
    sup.onExit((d) => exits.push(d));
    await sup.start({ FAILOVER_GUARD_TERM: '1' });
    await settle(clock, sup.stop(by()));
    await clock.advance(3000);
    expect(exits).toEqual([]);
  });

  it('a start issued during a stop waits for it, then starts', async () => {
    const unit = new FakeUnit();
    const { sup, clock, by } = systemd(unit, 2);
    await sup.start({ FAILOVER_GUARD_TERM: '1' });
    unit.stoppable = false;
    const stopped = sup.stop(by());
    const started = sup.start({ FAILOVER_GUARD_TERM: '2' });
    await flush();
    await settle(clock, stopped);
    await started;
    expect(unit.calls.filter((c) => c.startsWith('systemctl start')).length).toBe(2);
    expect(unit.calls.indexOf('systemctl kill --signal=SIGKILL --kill-whom=all app.service')).toBeLessThan(unit.calls.lastIndexOf('systemctl start --no-block app.service'));
    expect(await sup.ready()).toBe(true);
  });

  it('a kill aborts a start in progress without waiting for it: the start launches nothing', async () => {
    // given: a start whose first systemctl call hangs
    const unit = new FakeUnit();
    const { sup, clock } = systemd(unit);
    unit.holdOn = 'reset-failed';
    const starting = sup.start({ FAILOVER_GUARD_TERM: '3' });
    await flush();
    expect(unit.calls).toEqual(['systemctl show -p ActiveState,SubState,MainPID,ExecMainStartTimestampMonotonic,ControlGroup,Slice app.service', 'systemctl reset-failed app.service']);
    // when: the fence comes; the hung call returns only afterwards
    await settle(clock, sup.kill(clock.now() + 2000));
    unit.release();
    // then: the kill did not wait behind the start, and the start never reached `systemctl start`
    await expect(starting).rejects.toThrow(/aborted/);
    expect(unit.calls.filter((c) => c.startsWith('systemctl start'))).toEqual([]);
    expect(unit.active).toBe('inactive');
  });

  it('a kill during the start call itself is not done until it has killed again after that call (its start job may come last)', async () => {
    // given: `systemctl start` under way (its job reaches systemd when the call returns)
    const unit = new FakeUnit();
    const { sup, clock } = systemd(unit);
    unit.holdOn = 'start';
    const starting = sup.start({ FAILOVER_GUARD_TERM: '3' });
    for (let i = 0; i < 20 && !unit.calls.includes('systemctl start --no-block app.service'); i++) await flush();
    // when
    let done = false;
    const killing = sup.kill(clock.now() + 5000).then(() => (done = true));
    await clock.advance(500);
    // then: not done while the start call is out (the unit looks inactive, but its start job is still to come)
    expect(done).toBe(false);
    unit.release();
    await settle(clock, killing);
    await expect(starting).rejects.toThrow(/aborted/);
    expect(unit.active).toBe('failed');
  });

  it('kill: cgroup.kill, systemctl kill --kill-whom=all and stop --no-block at once; gone only when the unit is down and its cgroup empty', async () => {
    // given: the unit's cgroup populated
    const { unit, clock, cg, sup } = withCgroup();
    await sup.start({ FAILOVER_GUARD_TERM: '1' });
    await settle(clock, sup.ready());
    unit.holdOn = 'kill';
    // when
    let done = false;
    const killing = sup.kill(clock.now() + 5000).then(() => (done = true));
    await flush();
    // then: the cgroup was killed and both systemctl calls issued before either answered
    expect(readFileSync(join(cg, 'cgroup.kill'), 'utf8')).toBe('1');
    expect(unit.calls.slice(-2)).toEqual(['systemctl kill --signal=SIGKILL --kill-whom=all app.service', 'systemctl stop --no-block app.service']);
    unit.release();
    // … the unit is down, but a process (a double fork) is still in its cgroup: not gone, killed again
    await clock.advance(200);
    expect(unit.active).toBe('failed');
    expect(done).toBe(false);
    // when: the cgroup empties
    writeFileSync(join(cg, 'cgroup.events'), 'populated 0\nfrozen 0\n');
    // then
    await settle(clock, killing);
    expect(done).toBe(true);
  });

  it('kill rejects at the deadline while the cgroup stays populated, naming it', async () => {
    const { clock, sup } = withCgroup();
    await sup.start({ FAILOVER_GUARD_TERM: '1' });
    await expect(settle(clock, sup.kill(clock.now() + 1000))).rejects.toThrow(/app.service is not known to be gone at the deadline \(failed\/x pid 0, cgroup \/system.slice\/app.service populated\)/);
  });

  it('derives a unit cgroup from its slice when systemd names none (inactive unit)', () => {
    expect(sliceCgroup('system.slice')).toBe('/system.slice');
    expect(sliceCgroup('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(sliceCgroup('-.slice')).toBe('');
    expect(systemdState('ActiveState=inactive\nMainPID=0\nSlice=system.slice\nControlGroup=\n', 'app.service').cgroup).toBe('/system.slice/app.service');
  });

  it('reads systemctl show: deactivating and unknown states may run; inactive and failed without a main pid do not', () => {
    expect(systemdState('ActiveState=deactivating\nSubState=stop-sigterm\nMainPID=77\n').state).toBe('running');
    expect(systemdState('ActiveState=inactive\nSubState=dead\nMainPID=0\n').state).toBe('stopped');
    expect(systemdState('ActiveState=failed\nSubState=failed\nMainPID=0\n').state).toBe('failed');
    expect(systemdState('ActiveState=maintenance\nMainPID=0\n').state).toBe('unknown');
    expect(systemdState('').state).toBe('unknown');
  });

  it('environment file values cannot break out of their line', () => {
    expect(environmentFileText({ A: 'x"y\\z' })).toBe('A="x\\"y\\\\z"\n');
    expect(() => environmentFileText({ A: 'x\nB=1' })).toThrow(/A contains a line break/);
  });
});

describe('ServiceSupervisor: windows-service', () => {
  function fakeSc(s: { state: number; exit?: number; queryFails?: boolean }) {
    const calls: string[] = [];
    const run: RunCommand = async ([file, ...args]) => {
      calls.push([file, ...args].join(' '));
      const cmd = args[0];
      if (cmd === 'start') s.state = 4;
      if (cmd === 'stop' && s.state === 4) s.state = 3; // STOP_PENDING until killed
      if (file === 'taskkill.exe') s.state = 1;
      if (cmd === 'queryex') return { code: 0, stdout: `SERVICE_NAME: PCAppServer\n        STATE              : ${s.state}  X\n        PID                : ${s.state === 1 ? 0 : 4711}\n` };
      if (cmd === 'query') {
        if (s.queryFails) return { code: -1, stdout: '' };
        return { code: 0, stdout: `SERVICE_NAME: PCAppServer\n        STATE              : ${s.state}  X\n        WIN32_EXIT_CODE    : ${s.exit ?? 0}  (0x0)\n        SERVICE_EXIT_CODE  : 0  (0x0)\n` };
      }
      return { code: 0, stdout: '' };
    };
    return { run, calls };
  }

  it('STOP_PENDING counts as running: at the deadline the process tree (taskkill /F /T by the service pid) and the service filter are killed', async () => {
    // given
    const s = { state: 1 };
    const { run, calls } = fakeSc(s);
    const clock = new FakeClock();
    const sup = new ServiceSupervisor({ control: windowsServiceControl('PCAppServer', run), stopTimeoutSecs: 1, log: silent, clock });
    // when
    await sup.start({ FAILOVER_GUARD_TERM: '1' });
    expect(await sup.ready()).toBe(true);
    await settle(clock, sup.stop(clock.now() + 2000));
    // then
    expect(calls[1]).toBe('sc.exe start PCAppServer');
    expect(calls).toContain('sc.exe stop PCAppServer');
    expect(calls).toContain('taskkill.exe /F /FI SERVICES eq PCAppServer');
    expect(calls).toContain('taskkill.exe /F /T /PID 4711');
    expect(await sup.ready()).toBe(false);
  });

  it('notices a service that stopped with an error', async () => {
    const s = { state: 1, exit: 0 };
    const { run } = fakeSc(s);
    const clock = new FakeClock();
    const sup = new ServiceSupervisor({ control: windowsServiceControl('PCAppServer', run), stopTimeoutSecs: 1, log: silent, clock, watchMs: 1000 });
    const exits: string[] = [];
    sup.onExit((d) => exits.push(d));
    await sup.start({});
    await clock.advance(1000);
    Object.assign(s, { state: 1, exit: 1067 });
    await clock.advance(1000);
    expect(exits).toEqual(['service PCAppServer stopped (exit 1067/0)']);
  });
});
