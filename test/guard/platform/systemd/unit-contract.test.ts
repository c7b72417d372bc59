import { deriveGuardTimings } from '../../../../lib/contracts/timing';
import { appDropInSettings, guardUnitSettings } from '../../../../lib/guard/platform/systemd/unit-contract';
import { loadGuardConfig } from '../../../../lib/guard/config';

describe('systemd unit contract', () => {
  const t = deriveGuardTimings({ failOverIntervalSecs: 30 });

  it('guard unit: Type=notify, NotifyAccess=main, WatchdogSec = W, the process env', () => {
    expect(guardUnitSettings(t)).toEqual([
      ['Type', 'notify'],
      ['NotifyAccess', 'main'],
      ['WatchdogSec', '6750ms'],
      ['Environment', 'MALLOC_ARENA_MAX=2'],
    ]);
  });

  it('app drop-in: the per-start environment file (required), TimeoutStopSec = S, and a kill (not a second S) when ExecStop= runs out of it', () => {
    expect(appDropInSettings('pc-app-server.service', t)).toEqual([
      ['EnvironmentFile', '/run/failover-guard/pc-app-server.service.env'],
      ['TimeoutStopSec', '30000ms'],
      ['TimeoutStopFailureMode', 'kill'],
    ]);
  });

  it('the rendered WatchdogSec passes the config-load check', () => {
    const usec = Number(guardUnitSettings(t).find(([k]) => k === 'WatchdogSec')![1].replace('ms', '')) * 1000;
    const r = loadGuardConfig('cluster.name=c\ndatabase.url=postgres://u@h/d\nservice.mode=systemd\nservice.unit=app.service\n', { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: String(usec) }, 'h');
    expect(r.ok).toBe(true);
  });
});
