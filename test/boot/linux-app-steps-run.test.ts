/**
 * The vendor guide's per-node steps in the rendered bash, executed for real as root inside a
 * throwaway mount namespace (tmpfs share, shims on PATH, here with a systemctl shim that keeps
 * unit state): printing services disabled, Print Deploy made failover-aware with its data on
 * the share, the user client pointed at the load balancer; a second run changes nothing.
 */
import { spawnSync } from 'child_process';
import { chmodSync, readFileSync, readlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import { renderLinuxBootScript } from '../../lib/boot';
import { papercut, parseClusterSpec } from '../../lib/spec';
import { APP, linuxContext } from '../harness/boot-contexts';
import { BootSandbox, papercutTree, requireRootAndUnshare, type TreeItem } from '../harness/boot-sandbox';

const MP = '/mnt/failover-share';
const APP_PATH = '/home/papercut';
const PD = 'providers/print-deploy/linux-x64';

/** systemctl that remembers disable/stop per unit, so a re-run sees what the first run did. */
const STATEFUL_SYSTEMCTL = `#!/bin/bash
printf '%s\\n' "systemctl $*" >>"$FG_CALLS"
unit=""
for a in "$@"; do unit=$a; done
case "$1" in
  is-enabled) if [ -e "$FG_SHIM_STATE/disabled-$unit" ]; then echo disabled; exit 1; fi; echo enabled ;;
  is-active) if [ -e "$FG_SHIM_STATE/stopped-$unit" ]; then exit 3; fi ;;
  disable) touch "$FG_SHIM_STATE/disabled-$unit" ;;
  stop) touch "$FG_SHIM_STATE/stopped-$unit" ;;
  show) echo loaded ;;
esac
exit 0
`;

function tree(node: string): TreeItem[] {
  return [
    ...papercutTree(node).map((i) => ({ ...i, path: `server/${i.path}` })),
    { path: `${PD}/data/config/client.conf.toml`, type: 'file', content: '[client]\nPort = 9263\n' },
    { path: `${PD}/data/cache`, type: 'directory', content: `print deploy cache of ${node}\n` },
    { path: `${PD}/default-pc-print-deploy.conf`, type: 'file', content: '{\n  "ScheduledTasks": {\n    "StartupRandomDelaySecs": 300\n  },\n  "StartupTasks": {\n    "StartupRandomDelaySecs" : 60\n  }\n}\n' },
    { path: 'client/linux/config.properties', type: 'file', content: '# user client\nserver-name=old-server\nserver-address = 10.0.0.5\nuse-https=N\n' },
    { path: 'client/win/config.properties', type: 'file', content: 'server-port=9191\n' },
  ];
}

let box: BootSandbox;
beforeAll(() => requireRootAndUnshare());
beforeEach(() => {
  box = new BootSandbox();
  writeFileSync(join(box.shims, 'systemctl'), STATEFUL_SYSTEMCTL);
  chmodSync(join(box.shims, 'systemctl'), 0o755);
});
afterEach(() => box.cleanup());

describe('Linux boot script: the guide steps beyond links, executed', () => {
  const spec = parseClusterSpec({ name: 'print', profile: papercut({ printDeploy: true }) });

  it('is shellcheck-clean with Print Deploy on', () => {
    const r = spawnSync('/usr/bin/shellcheck', ['-s', 'bash', '-'], { input: renderLinuxBootScript(spec, linuxContext('nfs', box.fakeGuardSha256)), encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('disables printing services, makes Print Deploy failover-aware, points the client at the load balancer; a second run changes nothing', () => {
    // given
    const root = box.node('a', APP_PATH, tree('a'));
    const script = renderLinuxBootScript(spec, linuxContext('nfs', box.fakeGuardSha256));
    // when
    const { runs, shareCopy, calls } = box.run(script, [root], { mode: 'twice', mountPoint: MP });
    // then: both runs succeed and the second leaves the tree as the first did
    const [first, second] = runs.a;
    expect([first.rc, second.rc]).toEqual([0, 0]);
    expect(second.snapshot).toBe(first.snapshot);
    // step 5: printing and tracking services disabled and stopped, once
    for (const unit of ['cups.service', 'cups.socket', 'cups.path', 'pc-event-monitor.service']) {
      expect(calls.filter((c) => c === `systemctl disable -- ${unit}`)).toHaveLength(1);
      expect(calls.filter((c) => c === `systemctl stop -- ${unit}`)).toHaveLength(1);
    }
    // Print Deploy: data on the share, HA check on, no random start-up delay in either section
    const pdDir = join(root, APP_PATH, PD);
    expect(readlinkSync(join(pdDir, 'data'))).toBe(join(root, MP, 'print-deploy/data'));
    expect(readFileSync(join(pdDir, 'data.bak/cache/keep.txt'), 'utf8')).toBe('print deploy cache of a\n');
    expect(readFileSync(join(shareCopy, 'print-deploy/data/cache/keep.txt'), 'utf8')).toBe('print deploy cache of a\n');
    expect(readFileSync(join(shareCopy, 'print-deploy/data/config/client.conf.toml'), 'utf8')).toBe('HighAvailabilityCheckEnabled=true\n[client]\nPort = 9263\n');
    expect(readFileSync(join(pdDir, 'default-pc-print-deploy.conf'), 'utf8')).toBe(
      '{\n  "ScheduledTasks": {\n    "StartupRandomDelaySecs": 0\n  },\n  "StartupTasks": {\n    "StartupRandomDelaySecs" : 0\n  }\n}\n',
    );
    expect(calls.filter((c) => c === 'systemctl try-restart -- pc-print-deploy.service')).toHaveLength(1);
    // the user client (every OS folder) points at the load balancer's name and the app's HTTP port
    expect(readFileSync(join(root, APP_PATH, 'client/linux/config.properties'), 'utf8')).toBe(
      `# user client\nserver-name=${APP.networkAddress}\nserver-address=${APP.networkAddress}\nuse-https=N\nserver-port=9191\n`,
    );
    expect(readFileSync(join(root, APP_PATH, 'client/win/config.properties'), 'utf8')).toBe(`server-port=9191\nserver-name=${APP.networkAddress}\nserver-address=${APP.networkAddress}\n`);
    // the guard gets the hooks and the app settings
    const config = readFileSync(join(root, 'etc/failover-guard/guard.properties'), 'utf8');
    expect(config).toContain(`app.network-address=${APP.networkAddress}\n`);
    expect(config).toContain(`app.database.url=${APP.database.url}\n`);
    expect(config).toMatch(/^hook\.before-start\.3=\{"kind":"schema-init".*"argv":\["\/home\/papercut\/server\/bin\/linux-x64\/db-tools","init-db","-f"\]/m);
  });
});
