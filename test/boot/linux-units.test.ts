/** The guard unit and the app drop-in the Linux boot script installs (systemd mode). */
import { guardUnits } from '../../lib/boot/linux-steps';
import { appDropInSettings, guardUnitSettings } from '../../lib/guard/platform/systemd/unit-contract';
import { custom, parseClusterSpec } from '../../lib/spec';
import { linuxContext, SHA } from '../harness/boot-contexts';

function spec(serviceName: string, failOverIntervalSecs = 30) {
  return parseClusterSpec({
    name: 'units',
    profile: custom({ displayName: 'app', os: 'linux', ports: [{ name: 'http', port: 8080 }], installDir: '/opt/app', serviceName, readiness: { kind: 'tcp', port: 8080 } }),
    guard: { failOverIntervalSecs },
  });
}

describe('guard units (systemd mode)', () => {
  it('guard: Type=notify, main-PID notifications, WatchdogSec = the guard watchdog W with SIGKILL, ExecStopPost kills the app, restarts forever', () => {
    // given
    const s = spec('app.service', 20);
    // when
    const { unit } = guardUnits(s, linuxContext('nfs', SHA));
    // then
    for (const [k, v] of guardUnitSettings(s.guard)) expect(unit).toContain(`\n${k}=${v}\n`);
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^NotifyAccess=main$/m);
    expect(unit).toMatch(/^WatchdogSec=3750ms$/m); // ¾ × (L 20 − D 10 − K 3 − M 2)
    expect(unit).toMatch(/^WatchdogSignal=SIGKILL$/m);
    // a guard that ended cannot prove its lease: its app is killed (a fence), then kept stopped
    expect(unit).toContain('\nExecStopPost=-/bin/systemctl kill --signal=SIGKILL --kill-whom=all -- app.service\nExecStopPost=/bin/systemctl stop --no-block -- app.service\n');
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^StartLimitIntervalSec=0$/m);
  });

  it('app drop-in: ordered before the guard with no relation that propagates a stop or restart, the per-start environment file, TimeoutStopSec = S', () => {
    // given
    const s = spec('app.service', 20);
    // when
    const { dropIn } = guardUnits(s, linuxContext('nfs', SHA));
    // then
    expect(dropIn).toMatch(/^Before=failover-guard\.service$/m);
    expect(dropIn).not.toMatch(/^(BindsTo|PartOf|Requires|Requisite|Wants|After)=/m);
    for (const [k, v] of appDropInSettings('app.service', s.guard)) expect(dropIn).toContain(`\n${k}=${v}\n`);
    expect(dropIn).toMatch(/^EnvironmentFile=\/run\/failover-guard\/app\.service\.env$/m);
    expect(dropIn).toMatch(new RegExp(`^TimeoutStopSec=${s.guard.stopTimeoutSecs * 1000}ms$`, 'm'));
  });

  it('escapes backslashes of an escaped unit name in ExecStopPost (systemd unescapes Exec lines)', () => {
    // given: a unit name with an escaped dash, as systemd-escape writes it
    const s = spec('my\\x2dapp.service');
    // when
    const { unit } = guardUnits(s, linuxContext('nfs', SHA));
    // then
    expect(unit).toContain('ExecStopPost=-/bin/systemctl kill --signal=SIGKILL --kill-whom=all -- my\\\\x2dapp.service\n');
    expect(unit).toContain('ExecStopPost=/bin/systemctl stop --no-block -- my\\\\x2dapp.service\n');
  });
});
