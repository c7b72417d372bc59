/**
 * The systemd supervisor's kill on a booted node (systemd 252 in systemd-nspawn): the unit's whole
 * cgroup dies at once — a process the service double-forked into a session of its own included —
 * and "gone" is confirmed from the cgroup (`populated 0`, or the cgroup removed), not from the main
 * process. The supervisor runs in this process; its systemctl calls and cgroup files reach into the
 * node (nsenter, /proc/<PID 1>/root), so what it talks to is the node's own systemd and cgroups.
 */
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { systemdControl } from '../../lib/guard/platform/systemd/systemd-control';
import { ServiceSupervisor } from '../../lib/guard/app/service-supervisor';
import { appDropInSettings } from '../../lib/guard/platform/systemd/unit-contract';
import { deriveGuardTimings } from '../../lib/contracts/timing';
import { silent } from '../harness/silent-log';
import { SingleNode } from '../harness/single-node';
import { sleep } from '../harness/wait';

/**
 * The service: its main process, and a `sleep 601` it double-forks out of its session (setsid).
 * KillMode=process (as some vendor units have): systemd's own stop ends the main process only and
 * reports the unit inactive with the `sleep 601` still in its cgroup.
 */
const DOUBLE_FORK_UNIT = `[Service]
ExecStart=/bin/sh -c 'setsid sh -c "exec sleep 601" & exec sleep 600'
KillMode=process
`;
/** A vendor-like unit whose ExecStop= never finishes, with the guard's app drop-in settings (S = 1 s). */
const SLOW_STOP_UNIT = `[Service]
ExecStart=/bin/sleep 600
ExecStop=/bin/sleep 602
${appDropInSettings('fc-slowstop.service', deriveGuardTimings({ failOverIntervalSecs: 30, stopTimeoutSecs: 1 }))
  .filter(([k]) => k !== 'EnvironmentFile')
  .map(([k, v]) => `${k}=${v}`)
  .join('\n')}
`;
const node = new SingleNode({ 'fc-dbl.service': DOUBLE_FORK_UNIT, 'fc-slowstop.service': SLOW_STOP_UNIT });
const inNode = node.run;

beforeAll(() => node.boot('fc-kill-node'), 60000);
afterAll(() => node.shutdown());

describe('systemd kill on a booted node', () => {
  for (const how of ['kill', 'stop'] as const) {
    it(`${how}: the unit's whole cgroup ends, a double-forked process included; resolves only with the cgroup empty`, async () => {
      // given: the service runs, with a process outside its main process's session
      const cgroupRoot = node.cgroupRoot;
      const sup = new ServiceSupervisor({ control: systemdControl('fc-dbl.service', { run: inNode, envDir: join(node.dir, 'env'), cgroupRoot }), stopTimeoutSecs: 5, log: silent });
      await sup.start({ FAILOVER_GUARD_TERM: '1' });
      for (let i = 0; i < 100 && (await node.procs('sleep 60')).length < 2; i++) await sleep(100);
      expect((await node.procs('sleep 601')).length).toBe(1);
      // when
      await (how === 'kill' ? sup.kill(performance.now() + 10000) : sup.stop(performance.now() + 10000));
      // then: nothing of the service is left (before, a stop was done once the unit was inactive,
      // with `sleep 601` still running), and its cgroup is empty or removed
      expect(await node.procs('sleep 60')).toEqual([]);
      const events = join(cgroupRoot, existsSync(join(cgroupRoot, 'cgroup.controllers')) ? '' : 'unified', 'system.slice', 'fc-dbl.service', 'cgroup.events');
      expect(existsSync(events) ? readFileSync(events, 'utf8') : 'populated 0').toMatch(/^populated 0$/m);
      expect((await inNode(['systemctl', 'is-active', 'fc-dbl.service'], { timeoutMs: 5000 })).stdout.trim()).not.toMatch(/^(active|activating|deactivating)$/);
    });
  }

  it('the app drop-in: a vendor ExecStop= that runs out of TimeoutStopSec is followed by SIGKILL, not by a second TimeoutStopSec of SIGTERM', async () => {
    // given
    await inNode(['systemctl', 'start', 'fc-slowstop.service'], { timeoutMs: 10000 });
    // when: systemd's own stop (as the guard unit's ExecStopPost= issues it)
    await inNode(['systemctl', 'stop', 'fc-slowstop.service'], { timeoutMs: 20000 });
    // then: systemd says it killed after the ExecStop timeout (TimeoutStopFailureMode=kill), never "Terminating"
    const journal = (await inNode(['/bin/journalctl', '-u', 'fc-slowstop.service', '--no-pager', '-o', 'cat'], { timeoutMs: 10000 })).stdout;
    expect(journal).toMatch(/Stopping timed out\. Killing\./);
    expect(journal).not.toMatch(/Stopping timed out\. Terminating\./);
    expect(await node.procs('sleep 60')).toEqual([]);
  });
});
