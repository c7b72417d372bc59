import { AWS_NODE_PLATFORM, awsGuardBinary, awsLifecycleHookWatch } from '../../lib/aws/aws-node-platform';
import { AZURE_SCHEDULED_EVENTS_WATCH } from '../../lib/azure/azure-node-platform';
import { existsSync } from 'fs';
import { renderLinuxBootScript, type BootContext, type GuardNodeContext } from '../../lib/boot';
import { userDataBytes } from '../../lib/synth/user-data';
import { custom, papercut, parseClusterSpec } from '../../lib/spec';
import { linuxContext, linuxSpec, SHA, type LinuxVariant } from '../harness/boot-contexts';
import { SHELLCHECK, shellcheck } from '../harness/shellcheck';


const VARIANTS: LinuxVariant[] = ['nfs', 'efs', 'smb-aws', 'smb-azure'];
const CASES = VARIANTS.flatMap((v) => [
  [v, false],
  [v, true],
] as const);

describe('renderLinuxBootScript', () => {
  it('finds shellcheck (the lint below must not be skipped)', () => {
    expect(existsSync(SHELLCHECK)).toBe(true);
    // and shellcheck does catch a warning
    expect(shellcheck('#!/bin/bash\nx=1\n').status).not.toBe(0);
  });

  it.each(CASES)('is shellcheck -S warning clean: %s, VIP %s', (variant, vip) => {
    // given
    const script = renderLinuxBootScript(linuxSpec(variant, vip), linuxContext(variant, SHA, vip));
    // when
    const result = shellcheck(script);
    // then
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('is shellcheck clean for a dns-mode app without a guard or a share', () => {
    const spec = parseClusterSpec({
      name: 'dns-app',
      profile: custom({ displayName: 'Stateless', os: 'linux', failoverMode: 'dns', ports: [{ name: 'http', port: 8080 }], installDir: '/opt/app', serviceName: 'app.service', readiness: { kind: 'tcp', port: 8080 } }),
    });
    const script = renderLinuxBootScript(spec, { mode: 'dns', platform: linuxContext('nfs', SHA).platform });
    expect(shellcheck(script).output).toBe('');
    expect(script).toContain('systemctl enable --now -- "$APP_UNIT"');
    expect(script).not.toContain('failover-guard.service');
    expect(script).not.toContain('mount the share');
  });

  it('fits in EC2 user data (16 KB) in its largest variant, as AwsAppServers sends it (gzip)', () => {
    const sizes = CASES.map(([v, vip]) => userDataBytes(renderLinuxBootScript(linuxSpec(v, vip), linuxContext(v, SHA, vip)), true));
    expect(Math.max(...sizes)).toBeLessThan(16 * 1024);
  });

  it('writes the guard config from guardSettings plus the extra settings, password only referenced', () => {
    // given
    const ctx: GuardNodeContext = { ...linuxContext('efs', SHA), extraGuardSettings: [['notify.command', '/usr/local/bin/notify']] };
    // when
    const script = renderLinuxBootScript(linuxSpec('efs'), ctx);
    // then
    expect(script).toContain('\ndatabase.password-source=aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf\n');
    expect(script).toContain('\nhigh-availability-guard.fail-over-interval-secs=30\n');
    expect(script).toContain('\nnotify.command=/usr/local/bin/notify\nFG_EOF\n');
  });

  it.each([
    { kind: 'AWS lifecycle hook', watch: awsLifecycleHookWatch({ autoScalingGroupName: 'pc-nodes', hookName: 'failover-guard-handover', region: 'eu-west-1' }) },
    { kind: 'Azure scheduled events', watch: AZURE_SCHEDULED_EVENTS_WATCH },
  ])('the lifecycle watcher it writes ($kind) is shellcheck clean too', ({ watch }) => {
    // given
    const script = renderLinuxBootScript(linuxSpec('efs'), { ...linuxContext('efs', SHA), replacement: watch });
    // when: the watcher is the here-document written to its path
    const watcher = script.split(`install_file "$LIFECYCLE_SCRIPT" 0700 <<'FG_EOF'\n`)[1].split('\nFG_EOF\n')[0];
    const result = shellcheck(`${watcher}\n`);
    // then
    expect(watcher).toMatch(/^#!\/bin\/bash\n/);
    expect(result.output).toBe('');
  });

  it('mounts EFS only with the EFS helper over TLS, never plain NFS (the TLS-only policy refuses it)', () => {
    const script = renderLinuxBootScript(linuxSpec('efs'), linuxContext('efs', SHA));
    expect(script).toContain("SHARE_SOURCE='fs-0123456789abcdef0:/'\nSHARE_TYPE=efs\nSHARE_OPTIONS='tls,_netdev,x-systemd.automount'");
    expect(script).not.toContain('nfsvers=4.1');
    expect(script).not.toContain('amazonaws.com:/');
  });

  it('reads the SMB secret with the aws CLI on AWS', () => {
    const script = renderLinuxBootScript(linuxSpec('smb-aws'), linuxContext('smb-aws', SHA));
    expect(script).toContain("SECRET_ID='arn:aws:secretsmanager:eu-west-1:123456789012:secret:smb-XyZ'");
    expect(script).toContain('aws secretsmanager get-secret-value --region "$SECRET_REGION" --secret-id "$SECRET_ID"');
  });

  it('names every bad context field at once and renders nothing', () => {
    // given
    const ctx: BootContext = {
      share: { kind: 'nfs', address: 'host:/x; rm -rf /', mountOptions: ['hard,soft'] },
      mode: 'guard', platform: AWS_NODE_PLATFORM, guardBinary: awsGuardBinary({ bucket: 'B', key: '', region: 'nowhere', sha256: 'abc' }),
      database: linuxContext('nfs', SHA).database,
      app: { database: linuxContext('nfs', SHA).app?.database, networkAddress: 'lb; rm -rf /' },
      mountPoint: '/mnt/my share',
      loopbackVip: '10.0.0.300',
    };
    // when / then
    expect(() => renderLinuxBootScript(linuxSpec('nfs', true), ctx)).toThrow(
      [
        'boot script input is invalid:',
        '  - share.address: must be "host:/path" without spaces or quotes',
        '  - share.mountOptions[0]: must be one mount option (letters, digits, _.=:/@+-)',
        '  - mountPoint: must be an absolute path of letters, digits and ._-/ (it goes into /etc/fstab)',
        '  - guardBinary.sha256: must be 64 hex digits (SHA-256)',
        '  - guardBinary.bucket: must be an S3 bucket name',
        '  - guardBinary.key: must be a non-empty single-line object key',
        '  - guardBinary.region: must be an AWS region such as "eu-west-1"',
        '  - app.networkAddress: must be a DNS name or IP address',
        '  - loopbackVip: must be an IPv4 address',
      ].join('\n'),
    );
  });

  it('refuses a Windows profile, a missing VIP and a unit name systemd cannot take', () => {
    const windows = parseClusterSpec({ name: 'print', profile: papercut({ os: 'windows' }) });
    expect(() => renderLinuxBootScript(windows, linuxContext('smb-aws', SHA))).toThrow('profile.os: is "windows"; use the windows renderer');
    expect(() => renderLinuxBootScript(linuxSpec('nfs', true), linuxContext('nfs', SHA))).toThrow('loopbackVip: is required when loadBalancer.floatingIp is on');
    const badUnit = parseClusterSpec({ name: 'print', profile: { ...papercut(), serviceName: 'pc app' } });
    expect(() => renderLinuxBootScript(badUnit, linuxContext('nfs', SHA))).toThrow('profile.serviceName: must be a systemd service unit name');
  });

  it('refuses SMB on Linux without a credentials secret', () => {
    const spec = parseClusterSpec({ name: 'print', profile: papercut(), storage: { kind: 'smb', credentialsSecretRef: 'file:/etc/smb.json' } });
    const ctx: BootContext = { ...linuxContext('smb-aws', SHA), share: { kind: 'smb', address: '//fs/share', credentialsSecretRef: 'env:X' } };
    expect(() => renderLinuxBootScript(spec, ctx)).toThrow('share.credentialsSecretRef: must be file:<absolute path>, aws-secretsmanager:<arn> or azure-keyvault:<secret-url>; env: cannot work here');
  });

  it('refuses a share kind the spec does not use and an extra setting that overrides the spec', () => {
    const ctx: GuardNodeContext = { ...linuxContext('nfs', SHA), extraGuardSettings: [['notify.command', 'x'], ['cluster.name', 'other']] };
    expect(() => renderLinuxBootScript(linuxSpec('smb-aws'), ctx)).toThrow(
      'boot script input is invalid:\n  - share.kind: is "nfs" but the spec\'s storage.kind is "smb"\n  - extraGuardSettings[1]: "cluster.name" is already set from the spec',
    );
  });

  it('keeps a display name with a newline inside its comment and unit description', () => {
    const spec = parseClusterSpec({
      name: 'odd',
      profile: custom({ displayName: 'Odd\nrm -rf / 100%', os: 'linux', ports: [{ name: 'http', port: 8080 }], installDir: '/opt/app', serviceName: 'app.service', readiness: { kind: 'tcp', port: 8080 } }),
    });
    const script = renderLinuxBootScript(spec, linuxContext('nfs', SHA));
    expect(script).toContain('# failover-constructs boot script for cluster odd (Odd rm -rf / 100%).\n');
    expect(script).toContain('Description=failover-guard: keeps at most one Odd rm -rf / 100%% node of cluster odd active\n');
    expect(script.split('\n').filter((l) => l.startsWith('rm -rf'))).toEqual([]);
  });
});
