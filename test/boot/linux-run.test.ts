/**
 * The rendered bash runs for real, as root, inside a throwaway mount namespace: a tmpfs stands
 * in for the share, fake install trees for the nodes, shims on PATH for systemctl, the package
 * manager, mount, the downloaders, ip and sysctl.
 */
import { execFileSync } from 'child_process';
import { AZURE_SCHEDULED_EVENTS_WATCH } from '../../lib/azure/azure-node-platform';
import { awsLifecycleHookWatch } from '../../lib/aws/aws-node-platform';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { renderLinuxBootScript } from '../../lib/boot';
import { EFS_UTILS_VERSION } from '../../lib/boot/linux-steps';
import { custom, parseClusterSpec } from '../../lib/spec';
import { linuxContext, linuxSpec } from '../harness/boot-contexts';
import { BootSandbox, papercutTree, requireRootAndUnshare, sha256, type TreeItem } from '../harness/boot-sandbox';

const MP = '/mnt/failover-share';
const INSTALL = '/home/papercut/server';
const SHARED = ['server.properties', 'security.properties', 'application.license', 'data', 'custom', 'reports'];

let box: BootSandbox;
beforeAll(() => requireRootAndUnshare());
beforeEach(() => {
  box = new BootSandbox();
});
afterEach(() => box.cleanup());

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');

describe('Linux boot script, executed', () => {
  it('links every shared item into the share, keeps the originals, installs the guard; a second run changes nothing', () => {
    // given: a PaperCut node whose reports.bak exists already (it must be kept)
    const root = box.node('a', INSTALL, [...papercutTree('a'), { path: 'reports.bak', type: 'directory', content: 'older backup\n' }]);
    const script = renderLinuxBootScript(linuxSpec('nfs'), linuxContext('nfs', box.fakeGuardSha256));
    // when
    const { runs, shareCopy, calls } = box.run(script, [root], { mode: 'twice', mountPoint: MP });
    // then: both runs succeed
    const [first, second] = runs.a;
    expect(first.output).toContain('boot script finished');
    expect([first.rc, second.rc]).toEqual([0, 0]);
    const install = join(root, INSTALL);
    for (const item of SHARED) {
      expect(readlinkSync(join(install, item))).toBe(join(root, MP, item));
      expect(existsSync(join(install, `${item}.bak`))).toBe(true);
      expect(existsSync(join(shareCopy, item))).toBe(true);
    }
    expect(readFileSync(join(install, 'server.properties.bak'), 'utf8')).toContain('from a');
    expect(readFileSync(join(shareCopy, 'server.properties'), 'utf8')).toContain('from a');
    expect(readFileSync(join(shareCopy, 'data/web-print-hot-folder/keep.txt'), 'utf8')).toBe('hot folder of a\n');
    // the existing reports.bak is untouched; this run's original went next to it
    expect(readFileSync(join(install, 'reports.bak/keep.txt'), 'utf8')).toBe('older backup\n');
    expect(readFileSync(join(install, 'reports.bak.1/keep.txt'), 'utf8')).toBe('reports of a\n');
    expect(lstatSync(join(install, 'lib/app.jar')).isFile()).toBe(true);
    expect(existsSync(join(install, 'server.uuid'))).toBe(false);
    // guard binary, config and unit
    expect(readFileSync(join(root, 'usr/local/bin/failover-guard'), 'utf8')).toBe(readFileSync(box.fakeGuard, 'utf8'));
    expect(mode(join(root, 'usr/local/bin/failover-guard'))).toBe('0755');
    const config = join(root, 'etc/failover-guard/guard.properties');
    expect(mode(config)).toBe('0600');
    expect(readFileSync(config, 'utf8')).toContain('service.unit=pc-app-server.service\n');
    const unit = join(root, 'etc/systemd/system/failover-guard.service');
    expect(mode(unit)).toBe('0644');
    const unitText = readFileSync(unit, 'utf8');
    expect(unitText).toMatch(/^Type=notify\nNotifyAccess=main\n/m);
    expect(unitText).toMatch(/^ExecStart=\/usr\/local\/bin\/failover-guard run --config \/etc\/failover-guard\/guard\.properties$/m);
    expect(unitText).toMatch(/^ExecStopPost=\/bin\/systemctl stop --no-block -- pc-app-server\.service$/m);
    expect(unitText).toMatch(/^WatchdogSec=\d/m);
    const dropIn = readFileSync(join(root, 'etc/systemd/system/pc-app-server.service.d/failover-guard.conf'), 'utf8');
    expect(dropIn).toMatch(/^Before=failover-guard\.service$/m);
    expect(dropIn).toMatch(/^EnvironmentFile=\/run\/failover-guard\/pc-app-server\.service\.env$/m);
    expect(dropIn).not.toMatch(/^(BindsTo|PartOf|Requisite)=/m);
    expect(readFileSync(join(root, 'etc/fstab'), 'utf8')).toBe(
      `fgshare.file.core.windows.net:/fgshare/papercut ${root}${MP} nfs4 nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev,x-systemd.automount 0 0\n`,
    );
    // systemd and the package manager were asked, the managed-identity token was used
    expect(calls).toContain('systemctl disable -- pc-app-server.service');
    expect(calls).toContain('systemctl enable --now failover-guard.service');
    expect(calls.filter((c) => c.startsWith('dnf -y install'))).toEqual(['dnf -y install nfs-utils python3']);
    expect(calls.some((c) => c.includes('client_id=6f1d2c3b-1a2b-4c5d-8e9f-0a1b2c3d4e5f'))).toBe(true);
    expect(calls.some((c) => c.startsWith('curl') && c.includes('Authorization: Bearer fake-token'))).toBe(true);
    // the second run: identical tree, nothing downloaded again
    expect(second.snapshot).toBe(first.snapshot);
    expect(second.output).toContain('guard binary already installed');
    expect(calls.filter((c) => c.includes('failover-guard-linux-x64'))).toHaveLength(1);
  });

  it('two nodes booting at once against one share seed it exactly once and both end fully linked', () => {
    // given: two nodes with their own install trees, one share
    const roots = ['n1', 'n2'].map((n) => box.node(n, INSTALL, papercutTree(n)));
    const script = renderLinuxBootScript(linuxSpec('efs'), linuxContext('efs', box.fakeGuardSha256));
    // when
    const { runs, shareCopy } = box.run(script, roots, { mode: 'concurrent', mountPoint: MP });
    // then
    const outputs = Object.values(runs).map((r) => r[0]);
    expect(outputs.map((o) => o.rc)).toEqual([0, 0]);
    const seeders = outputs.filter((o) => o.output.includes('seeding the share from this node'));
    expect(seeders).toHaveLength(1);
    expect(readFileSync(join(shareCopy, '.failover-seeded'), 'utf8').trim().split('\n')).toHaveLength(1);
    // every item on the share comes from the one seeder
    const seeder = readFileSync(join(shareCopy, '.failover-seeded'), 'utf8').split(' ')[0].replace('machine-', '');
    expect(readFileSync(join(shareCopy, 'server.properties'), 'utf8')).toContain(`from ${seeder}`);
    expect(readFileSync(join(shareCopy, 'reports/keep.txt'), 'utf8')).toBe(`reports of ${seeder}\n`);
    for (const root of roots) {
      for (const item of SHARED) expect(readlinkSync(join(root, INSTALL, item))).toBe(join(root, MP, item));
      expect(existsSync(join(root, INSTALL, 'server.uuid'))).toBe(false);
    }
  });

  it('mounts the share through fstab when it is not mounted yet, and puts the VIP on lo', () => {
    // given: EFS on Amazon Linux without the efs helper yet (dnf installs it), a floating IP
    // and an fstab with the root file system and an outdated line for the share
    const root = box.node('a', INSTALL, papercutTree('a'));
    writeFileSync(join(root, 'etc/fstab'), `LABEL=root / xfs defaults 0 0\nold-server:/ ${root}${MP} nfs4 defaults 0 0\n`, { mode: 0o644 });
    const script = renderLinuxBootScript(linuxSpec('efs', true), linuxContext('efs', box.fakeGuardSha256, true));
    // when
    const { runs, calls } = box.run(script, [root], { mode: 'twice', mountPoint: MP, premount: false });
    // then
    expect(runs.a.map((r) => r.rc)).toEqual([0, 0]);
    expect(runs.a[1].snapshot).toBe(runs.a[0].snapshot);
    expect(calls.filter((c) => c.startsWith('mount '))).toEqual([`mount -- ${root}${MP}`]);
    expect(readFileSync(join(root, 'etc/fstab'), 'utf8')).toBe(
      `LABEL=root / xfs defaults 0 0\nfs-0123456789abcdef0:/ ${root}${MP} efs tls,_netdev,x-systemd.automount 0 0\n`,
    );
    expect(calls.filter((c) => c.startsWith('dnf -y install'))).toEqual(['dnf -y install nfs-utils', 'dnf -y install amazon-efs-utils']);
    expect(mode(join(root, 'etc/fstab'))).toBe('0644');
    expect(calls).toContain('ip addr replace 10.20.0.100/32 dev lo');
    expect(calls).toContain(`sysctl -p ${root}/etc/sysctl.d/90-failover-guard-vip.conf`);
    expect(readFileSync(join(root, 'etc/sysctl.d/90-failover-guard-vip.conf'), 'utf8')).toContain('net.ipv4.conf.all.arp_announce = 2\n');
    expect(readFileSync(join(root, 'etc/systemd/system/failover-guard-vip.service'), 'utf8')).toContain('ExecStart=/sbin/ip addr replace 10.20.0.100/32 dev lo\n');
    // world-readable like every unit file: systemd warns about units it cannot read as a user
    expect(mode(join(root, 'etc/systemd/system/failover-guard-vip.service'))).toBe('0644');
    expect(calls).toContain('aws s3 cp --only-show-errors --region eu-west-1 s3://fg-assets-123/guard/failover-guard-linux-x64 ' + `${root}/usr/local/bin/failover-guard.download.gz`);
  });

  it('mounts EFS with the efs helper over TLS when mount.efs exists', () => {
    // given: amazon-efs-utils installed (a mount.efs on PATH)
    const root = box.node('a', INSTALL, papercutTree('a'));
    writeFileSync(join(box.shims, 'mount.efs'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const script = renderLinuxBootScript(linuxSpec('efs'), linuxContext('efs', box.fakeGuardSha256));
    // when
    const { runs, calls } = box.run(script, [root], { mode: 'once', mountPoint: MP });
    // then
    expect(runs.a[0].rc).toBe(0);
    expect(readFileSync(join(root, 'etc/fstab'), 'utf8')).toBe(`fs-0123456789abcdef0:/ ${root}${MP} efs tls,_netdev,x-systemd.automount 0 0\n`);
    expect(calls.filter((c) => c.startsWith('dnf -y install'))).toEqual(['dnf -y install nfs-utils']);
  });

  it.each([
    ['smb-azure', 'resource=https://vault.azure.net'],
    ['smb-aws', 'aws secretsmanager get-secret-value --region eu-west-1 --secret-id arn:aws:secretsmanager:eu-west-1:123456789012:secret:smb-XyZ'],
  ] as const)('SMB (%s): writes the credentials from the secret into a root-only file, never into the script', (variant, secretCall) => {
    // given
    const root = box.node('a', INSTALL, papercutTree('a'));
    const script = renderLinuxBootScript(linuxSpec(variant), linuxContext(variant, box.fakeGuardSha256));
    // when
    const { runs, calls } = box.run(script, [root], { mode: 'twice', mountPoint: MP });
    // then
    expect(runs.a.map((r) => r.rc)).toEqual([0, 0]);
    expect(runs.a[1].snapshot).toBe(runs.a[0].snapshot);
    const credentials = join(root, 'etc/failover-guard/smb-credentials');
    expect(readFileSync(credentials, 'utf8')).toBe('username=svc-share\npassword=not-in-the-script\n');
    expect(mode(credentials)).toBe('0600');
    expect(mode(join(root, 'etc/failover-guard'))).toBe('0700');
    expect(script).not.toContain('not-in-the-script');
    expect(runs.a[0].output).not.toContain('not-in-the-script');
    const address = variant === 'smb-aws' ? '//amznfsx1234.corp.example.com/share' : '//fgshare.file.core.windows.net/papercut';
    expect(readFileSync(join(root, 'etc/fstab'), 'utf8')).toBe(
      `${address} ${root}${MP} cifs vers=3.1.1,serverino,mfsymlinks,dir_mode=0770,file_mode=0660,_netdev,x-systemd.automount,credentials=${credentials} 0 0\n`,
    );
    expect(calls.filter((c) => c.includes(secretCall))).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith('dnf -y install'))).toEqual(['dnf -y install cifs-utils python3']);
  });

  it('fails naming the step when the guard binary does not match its SHA-256', () => {
    // given: a context whose hash is not the binary's
    const root = box.node('a', INSTALL, papercutTree('a'));
    const script = renderLinuxBootScript(linuxSpec('efs'), linuxContext('efs', 'f'.repeat(64)));
    // when
    const { runs } = box.run(script, [root], { mode: 'once', mountPoint: MP });
    // then
    expect(runs.a[0].rc).not.toBe(0);
    expect(runs.a[0].output).toContain("FAILED in step 'install the guard binary' (exit 1): the downloaded guard binary does not match its SHA-256");
    expect(existsSync(join(root, 'usr/local/bin/failover-guard'))).toBe(false);
    expect(readFileSync(join(root, 'var/log/failover-guard-boot.log'), 'utf8')).toContain("FAILED in step 'install the guard binary'");
  });

  it('unpacks the gzip download and checks the SHA-256 of the unpacked binary, not of the download', () => {
    // given: the context carries the binary's hash (the download's hash would not match)
    const root = box.node('a', INSTALL, papercutTree('a'));
    expect(sha256(readFileSync(box.fakeGuardUpload))).not.toBe(box.fakeGuardSha256);
    const script = renderLinuxBootScript(linuxSpec('nfs'), linuxContext('nfs', box.fakeGuardSha256));
    // when
    const { runs } = box.run(script, [root], { mode: 'once', mountPoint: MP });
    // then: the installed file is the binary itself, executable, and nothing of the download is left
    expect(runs.a[0].rc).toBe(0);
    expect(readFileSync(join(root, 'usr/local/bin/failover-guard'))).toEqual(readFileSync(box.fakeGuard));
    expect(statSync(join(root, 'usr/local/bin/failover-guard')).mode & 0o777).toBe(0o755);
    expect(readdirSync(join(root, 'usr/local/bin')).filter((f) => f.includes('download'))).toEqual([]);
  });

  it('refuses a corrupted download: fails naming the step, installs nothing, leaves no partial binary', () => {
    // given: the served file is cut short (a truncated transfer)
    const root = box.node('a', INSTALL, papercutTree('a'));
    const intact = readFileSync(box.fakeGuardUpload);
    writeFileSync(box.fakeGuardUpload, intact.subarray(0, intact.length - 9));
    const script = renderLinuxBootScript(linuxSpec('nfs'), linuxContext('nfs', box.fakeGuardSha256));
    // when
    const { runs } = box.run(script, [root], { mode: 'once', mountPoint: MP });
    // then
    expect(runs.a[0].rc).not.toBe(0);
    expect(runs.a[0].output).toContain("FAILED in step 'install the guard binary' (exit 1): the downloaded guard binary is not a valid gzip file");
    expect(existsSync(join(root, 'usr/local/bin/failover-guard'))).toBe(false);
    expect(existsSync(join(root, 'usr/local/bin/failover-guard.download'))).toBe(false);
  });

  it('fails naming the step and the line when a command fails', () => {
    // given: the package manager fails
    const root = box.node('a', INSTALL, papercutTree('a'));
    box.failCommand('dnf');
    const script = renderLinuxBootScript(linuxSpec('nfs'), linuxContext('nfs', box.fakeGuardSha256));
    // when
    const { runs } = box.run(script, [root], { mode: 'once', mountPoint: MP });
    // then: stopped at once, nothing after the failed step happened
    const line = script.split('\n').findIndex((l) => l.includes('"$pm" -y install "${PACKAGES_RPM[@]}"')) + 1;
    expect(runs.a[0].rc).toBe(1);
    expect(runs.a[0].output).toContain(`FAILED in step 'install share client tools' (exit 1, line ${line})`);
    expect(existsSync(join(root, 'etc/fstab'))).toBe(false);
    expect(lstatSync(join(root, INSTALL, 'data')).isDirectory()).toBe(true);
  });

  it('keeps spaces, quotes, $(...) and backticks in spec values literal', () => {
    // given: a custom app whose install dir and shared items are hostile strings
    const nasty = [`it's a "dir"`, '$(touch INJECTED_1)', '`touch INJECTED_2`', "'; touch INJECTED_3; '", '"; touch INJECTED_4; "', '$HOME and \\n'];
    const items: TreeItem[] = nasty.map((n, i) => ({ path: `${n} ${i}`, type: i % 2 === 0 ? 'file' : 'directory', content: `item ${i}\n` }));
    const installDir = '/opt/my app $(touch INJECTED_5) `touch INJECTED_6` \'q\' "dq"';
    const spec = parseClusterSpec({
      name: 'weird',
      profile: custom({
        displayName: 'Weird\n$(touch INJECTED_7)',
        os: 'linux',
        ports: [{ name: 'http', port: 8080 }],
        installDir,
        sharedItems: items.map(({ path, type }) => ({ path, type })),
        deleteOnClone: ['id $(touch INJECTED_8)'],
        serviceName: 'weird-app.service',
        serviceUser: 'nobody',
        readiness: { kind: 'tcp', port: 8080 },
      }),
    });
    const root = box.node('a', installDir, [...items, { path: 'id $(touch INJECTED_8)', type: 'file', content: 'id\n' }]);
    const ctx = { ...linuxContext('efs', box.fakeGuardSha256), extraGuardSettings: [['notify.command', '/bin/echo "$(touch INJECTED_9)" `x`']] as [string, string][] };
    const script = renderLinuxBootScript(spec, ctx);
    // when
    const { runs, shareCopy } = box.run(script, [root], { mode: 'twice', mountPoint: MP });
    // then: it worked with the literal names, and nothing was executed
    expect(runs.a.map((r) => r.rc)).toEqual([0, 0]);
    for (const item of items) {
      expect(readlinkSync(join(root, installDir, item.path))).toBe(join(root, MP, item.path));
      expect(existsSync(join(shareCopy, item.path))).toBe(true);
    }
    expect(existsSync(join(root, installDir, 'id $(touch INJECTED_8)'))).toBe(false);
    expect(readFileSync(join(root, 'etc/failover-guard/guard.properties'), 'utf8')).toContain('notify.command=/bin/echo "$(touch INJECTED_9)" `x`\n');
    // chown to the service user (nobody exists here) went through the same quoting
    expect(lstatSync(join(root, installDir, items[0].path)).uid).toBe(Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })));
    for (const dir of [box.workdir, process.cwd(), join(root, installDir)]) {
      expect(readdirSync(dir).filter((f) => f.startsWith('INJECTED'))).toEqual([]);
    }
  });
});

describe('Linux boot script, first boot on a real image', () => {
  it('fails at once, naming imageId and installCommands, when the app service is not installed; changes nothing', () => {
    // given: a stock image (no pc-app-server.service)
    const root = box.node('a', INSTALL, papercutTree('a'));
    box.missingUnit('pc-app-server.service');
    const script = renderLinuxBootScript(linuxSpec('efs'), linuxContext('efs', box.fakeGuardSha256));
    // when
    const { runs, calls } = box.run(script, [root], { mode: 'once', mountPoint: MP });
    // then
    expect(runs.a[0].rc).toBe(1);
    expect(runs.a[0].output).toContain("FAILED in step 'check the app is installed' (exit 1): the app's service pc-app-server.service is not installed on this image");
    expect(runs.a[0].output).toMatch(/imageId[\s\S]*installCommands/);
    expect(existsSync(join(root, 'etc/fstab'))).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/failover-guard.service'))).toBe(false);
    expect(calls.filter((c) => c.startsWith('systemctl disable') || c.startsWith('dnf'))).toEqual([]);
  });

  it('EFS without amazon-efs-utils in the repositories: fails loudly, never mounts plain NFS', () => {
    // given: dnf has no amazon-efs-utils, so no mount.efs appears
    const root = box.node('a', INSTALL, papercutTree('a'));
    box.withoutEfsUtils();
    const script = renderLinuxBootScript(linuxSpec('efs'), linuxContext('efs', box.fakeGuardSha256));
    // when
    const { runs, calls } = box.run(script, [root], { mode: 'once', mountPoint: MP, premount: false });
    // then
    expect(runs.a[0].rc).toBe(1);
    expect(runs.a[0].output).toContain("FAILED in step 'install share client tools' (exit 1): amazon-efs-utils (mount.efs) could not be installed; EFS accepts TLS mounts only");
    expect(calls.filter((c) => c.startsWith('mount '))).toEqual([]);
    expect(existsSync(join(root, 'etc/fstab'))).toBe(false);
  });

  it('EFS on Debian/Ubuntu: apt-get waits for the dpkg lock, amazon-efs-utils is built from the pinned release, the mount uses TLS', () => {
    // given: an apt-based image (no dnf, yum or rpm) without amazon-efs-utils in its archive
    for (const shim of ['dnf', 'yum', 'rpm']) box.removeShim(shim);
    const root = box.node('a', INSTALL, papercutTree('a'));
    const script = renderLinuxBootScript(linuxSpec('efs'), linuxContext('efs', box.fakeGuardSha256));
    // when
    const { runs, calls } = box.run(script, [root], { mode: 'once', mountPoint: MP, premount: false });
    // then
    expect(runs.a[0].rc).toBe(0);
    const apt = calls.filter((c) => c.startsWith('apt-get'));
    expect(apt.length).toBeGreaterThanOrEqual(3);
    for (const c of apt) expect(c).toContain('-o DPkg::Lock::Timeout=600');
    expect(apt).toContain('apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=5 install -y nfs-common');
    expect(calls.some((c) => c.startsWith(`git clone --quiet --depth 1 --branch ${EFS_UTILS_VERSION} https://github.com/aws/efs-utils `))).toBe(true);
    expect(apt.some((c) => /install -y \/\S+\/efs-utils\/build\/amazon-efs-utils-0\.0\.0_all\.deb$/.test(c))).toBe(true);
    expect(readFileSync(join(root, 'etc/fstab'), 'utf8')).toBe(`fs-0123456789abcdef0:/ ${root}${MP} efs tls,_netdev,x-systemd.automount 0 0\n`);
  });

  it('apt-get update: retried while it fails (the lists lock held by apt-daily at first boot), then installs', () => {
    // given: an apt-based image whose first three `apt-get update` calls fail. Bash only: the
    // boot script is bash (arrays, pipefail), which cloud-init runs from its shebang.
    for (const shim of ['dnf', 'yum', 'rpm']) box.removeShim(shim);
    const root = box.node('a', INSTALL, papercutTree('a'));
    box.failTimes('apt-get', 3);
    const script = renderLinuxBootScript(linuxSpec('nfs'), linuxContext('nfs', box.fakeGuardSha256));
    // when
    const { runs, calls } = box.run(script, [root], { mode: 'once', mountPoint: MP });
    // then
    expect(runs.a[0].rc).toBe(0);
    expect(runs.a[0].output).toContain('attempt 3 of 60 failed: apt_get');
    const apt = calls.filter((c) => c.startsWith('apt-get'));
    expect(apt.slice(0, 4)).toEqual(Array(4).fill('apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=5 update'));
    expect(apt[4]).toBe('apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=5 install -y nfs-common python3');
  });

  it.each([
    ['nfs', 'curl', 'metadata/identity'],
    ['efs', 'aws', 's3 cp'],
  ] as const)('%s: retries %s while a new permission still answers 403, then boots', (variant, command, what) => {
    // given: the first three calls are refused
    const root = box.node('a', INSTALL, papercutTree('a'));
    box.failTimes(command, 3);
    const script = renderLinuxBootScript(linuxSpec(variant), linuxContext(variant, box.fakeGuardSha256));
    // when
    const { runs, calls } = box.run(script, [root], { mode: 'once', mountPoint: MP });
    // then
    expect(runs.a[0].rc).toBe(0);
    expect(runs.a[0].output).toContain(`attempt 3 of 60 failed: ${command}`);
    expect(calls.filter((c) => c.startsWith(command) && c.includes(what)).length).toBeGreaterThanOrEqual(4);
    expect(calls.filter((c) => c === 'sleep 10')).toHaveLength(3);
    expect(readFileSync(join(root, 'usr/local/bin/failover-guard'), 'utf8')).toBe(readFileSync(box.fakeGuard, 'utf8'));
  });

  it.each([
    [true, ['sleep 15', 'failover-guard step-down --config /etc/failover-guard/guard.properties']],
    [false, []],
  ] as const)('rolling replacement (active=%s): the watcher steps an active guard down, stops it, then completes the lifecycle hook', (active, handover) => {
    // given: a node booted with the AWS lifecycle hook
    const root = box.node('a', INSTALL, papercutTree('a'));
    const hook = awsLifecycleHookWatch({ autoScalingGroupName: 'pc-nodes', hookName: 'failover-guard-handover', region: 'eu-west-1' });
    const script = renderLinuxBootScript(linuxSpec('efs'), { ...linuxContext('efs', box.fakeGuardSha256), replacement: hook });
    const { runs, calls } = box.run(script, [root], { mode: 'twice', mountPoint: MP });
    expect(runs.a.map((r) => r.rc)).toEqual([0, 0]);
    expect(runs.a[1].snapshot).toBe(runs.a[0].snapshot);
    expect(calls).toContain('systemctl enable --now failover-guard-lifecycle.service');
    const watcher = join(root, 'usr/local/libexec/failover-guard-lifecycle');
    expect(mode(watcher)).toBe('0700');
    expect(readFileSync(join(root, 'etc/systemd/system/failover-guard-lifecycle.service'), 'utf8')).toContain('ExecStart=/usr/local/libexec/failover-guard-lifecycle\n');
    // world-readable like every unit file (systemd warns otherwise); the watcher script stays 0700
    expect(mode(join(root, 'etc/systemd/system/failover-guard-lifecycle.service'))).toBe('0644');
    // when: the group terminates the node (instance refresh)
    box.lifecycle('Terminated', active);
    const run = box.exec(watcher);
    // then: hand over (active only), stop the guard, and only then let the group go on
    expect(run.rc).toBe(0);
    const steps = run.calls.filter((c) => /^(sleep 15|failover-guard|systemctl|aws)/.test(c));
    expect(steps).toEqual([
      ...handover,
      'systemctl stop -- failover-guard.service',
      'aws autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name pc-nodes --lifecycle-hook-name failover-guard-handover --instance-id i-0123456789abcdef0 --lifecycle-action-result CONTINUE',
    ]);
  });
});

describe('Linux boot script, Azure replacement notice', () => {
  it('on a Terminate scheduled event for this VM the watcher steps down, stops the guard, then approves the event', () => {
    // given: a node booted with the scale set's termination notification
    const root = box.node('a', INSTALL, papercutTree('a'));
    const script = renderLinuxBootScript(linuxSpec('nfs'), { ...linuxContext('nfs', box.fakeGuardSha256), replacement: AZURE_SCHEDULED_EVENTS_WATCH });
    const { runs } = box.run(script, [root], { mode: 'once', mountPoint: MP });
    expect(runs.a[0].rc).toBe(0);
    const watcher = join(root, 'usr/local/libexec/failover-guard-lifecycle');
    // when: the rolling upgrade deletes this VM (an event for another VM comes first and is ignored)
    box.scheduledEvents(
      {
        DocumentIncarnation: 2,
        Events: [
          { EventId: 'other-vm', EventType: 'Terminate', Resources: ['pc-nodes_1'] },
          { EventId: 'C7061BAC-AFDC-4513-B24B-AA5F13A16123', EventType: 'Terminate', Resources: ['pc-nodes_3'] },
        ],
      },
      true,
    );
    const run = box.exec(watcher);
    // then
    expect(run.rc).toBe(0);
    const steps = run.calls.filter((c) => /^(sleep 15|failover-guard|systemctl)|POST/.test(c));
    expect(steps).toEqual([
      'sleep 15',
      'failover-guard step-down --config /etc/failover-guard/guard.properties',
      'systemctl stop -- failover-guard.service',
      'curl -fsS -H Metadata:true -X POST -d {"StartRequests":[{"EventId":"C7061BAC-AFDC-4513-B24B-AA5F13A16123"}]} http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01',
    ]);
  });
});
