import { renderLinuxBootScript, renderWindowsBootScript, type BootContext, type GuardBinaryFetch, type NodePlatform, type ReplacementWatch } from '../../lib/boot';
import { custom, papercut, parseClusterSpec } from '../../lib/spec';
import { AWS_NODE_PLATFORM } from '../../lib/aws/aws-node-platform';
import { APP, DB, SHA, linuxContext, linuxSpec } from '../harness/boot-contexts';
import { shellcheck } from '../harness/shellcheck';

/** A cloud lib/boot has never heard of: everything cloud-specific comes from these ports. */
const THIRD_CLOUD: NodePlatform = {
  name: 'Third',
  defaultHealthProbeSources: ['35.191.0.0/16'],
  windowsInstanceId: `$instance = 'third-cloud-instance'`,
};
const THIRD_BINARY: GuardBinaryFetch = {
  sha256: SHA,
  usesImdsToken: false,
  problems: () => [],
  linux: () => ({ values: `GUARD_THIRD_URL='https://objects.third.example/guard'\n`, download: `  retry curl -fsS -o "$download" "$GUARD_THIRD_URL"` }),
  windows: () => `Invoke-WebRequest -UseBasicParsing -Uri 'https://objects.third.example/guard.exe' -OutFile $download`,
};
const THIRD_WATCH: ReplacementWatch = {
  linux: () => `wait_for_notice() { sleep infinity; }\nlet_it_go() { :; }\n`,
  windows: () => `function Wait-ForNotice { Start-Sleep -Seconds 86400; 'Terminate' }\nfunction Complete-Notice { }\n`,
};

describe('the cloud ports', () => {
  it('a third cloud renders its own download and watcher on Linux, nothing of AWS or Azure, and passes shellcheck', () => {
    // given
    const ctx: BootContext = { ...linuxContext('efs', SHA), share: { kind: 'nfs', address: 'filestore.third.example:/share' }, platform: THIRD_CLOUD, guardBinary: THIRD_BINARY, replacement: THIRD_WATCH };
    // when
    const script = renderLinuxBootScript(linuxSpec('nfs'), ctx);
    // then: before the ports a kind lib/boot did not know took the Azure branch
    expect(script).toContain(`GUARD_THIRD_URL='https://objects.third.example/guard'\n`);
    expect(script).toContain('wait_for_notice() { sleep infinity; }');
    expect(script).not.toMatch(/imds_token|storage\.azure\.com|aws s3 cp|scheduledevents|autoscaling/);
    expect(shellcheck(script).output).toBe('');
  });

  it('a third cloud on Windows: its instance id for the clone, its probe sources, its download', () => {
    // given
    const spec = parseClusterSpec({
      name: 'weird',
      profile: custom({ displayName: 'W', os: 'windows', ports: [{ name: 'http', port: 8080 }], installDir: 'C:\\App', sharedItems: [], serviceName: 'App', readiness: { kind: 'tcp', port: 8080 }, deleteOnClone: ['id.txt'] }),
    });
    const ctx: BootContext = { mode: 'guard', platform: THIRD_CLOUD, guardBinary: THIRD_BINARY, database: DB, replacement: THIRD_WATCH };
    // when
    const script = renderWindowsBootScript(spec, ctx, { wrap: false });
    // then
    expect(script).toContain("$instance = 'third-cloud-instance'");
    expect(script).toContain("$ProbeSources = @('35.191.0.0/16')");
    expect(script).toContain("-Uri 'https://objects.third.example/guard.exe'");
    expect(script).not.toMatch(/169\.254\.169\.254|Read-S3Object|Get-ImdsToken/);
  });

  it('the mode must be the profile\'s, and a spec with shared items needs a share', () => {
    const dns: BootContext = { mode: 'dns', platform: AWS_NODE_PLATFORM };
    expect(() => renderLinuxBootScript(linuxSpec('efs'), dns)).toThrow('mode: is "dns" but the profile\'s failoverMode is "guard"');
    const { share: _share, ...noShare } = linuxContext('efs', SHA);
    expect(() => renderLinuxBootScript(linuxSpec('efs'), noShare)).toThrow('share: is required: the spec has shared items');
  });

  it('a share kind it does not know is refused by name, not mounted as another kind', () => {
    // given: before, anything not efs or nfs was mounted as SMB
    const ctx = { ...linuxContext('nfs', SHA), share: { kind: 'gcsfuse', address: 'bucket' } } as unknown as BootContext;
    // when / then
    expect(() => renderLinuxBootScript(linuxSpec('nfs'), ctx)).toThrow('share.kind: is "gcsfuse"; must be one of "nfs", "efs", "smb"');
  });

  it('a dns node needs no guard, database or share', () => {
    const spec = parseClusterSpec({
      name: 'app',
      profile: custom({ displayName: 'App', os: 'linux', failoverMode: 'dns', ports: [{ name: 'web', port: 8080 }], installDir: '/opt/app', serviceName: 'app.service', readiness: { kind: 'tcp', port: 8080 } }),
    });
    const script = renderLinuxBootScript(spec, { mode: 'dns', platform: AWS_NODE_PLATFORM, app: APP });
    expect(script).toContain('step "start the app service"');
    expect(script).not.toContain('GUARD_');
    // the PaperCut profile is a guard profile: a dns context for it is refused
    expect(() => renderLinuxBootScript(parseClusterSpec({ name: 'pc', profile: papercut() }), { mode: 'dns', platform: AWS_NODE_PLATFORM })).toThrow(/mode: is "dns"/);
  });
});
