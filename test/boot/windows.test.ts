import { renderWindowsBootScript, type BootContext } from '../../lib/boot';
import { custom, papercut, parseClusterSpec, thinprint } from '../../lib/spec';
import { DB, SHA } from './fixtures/contexts';

const awsContext: BootContext = {
  share: { kind: 'smb', address: '//amznfsx1234.corp.example.com/share', credentialsSecretRef: 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:smb-XyZ' },
  guardBinary: { kind: 's3', bucket: 'fg-assets-123', key: 'guard/failover-guard-win-x64.exe', region: 'eu-west-1', sha256: SHA },
  database: DB,
};
const azureContext: BootContext = {
  share: { kind: 'smb', address: '//fgshare.file.core.windows.net/papercut', credentialsSecretRef: 'azure-keyvault:https://fg-kv.vault.azure.net/secrets/smb' },
  guardBinary: { kind: 'azure-blob', url: 'https://fgassets.blob.core.windows.net/guard/failover-guard-win-x64.exe', sha256: SHA, managedIdentityClientId: '6f1d2c3b-1a2b-4c5d-8e9f-0a1b2c3d4e5f' },
  database: { url: 'postgres://guard@fg-db.postgres.database.azure.com:5432/papercut?sslmode=require', passwordSource: 'azure-keyvault:https://fg-kv.vault.azure.net/secrets/db' },
  loopbackVip: '10.20.0.100',
  windowsDrive: 'P:',
};
const windowsPaperCut = (floatingIp = false) => parseClusterSpec({ name: 'print', profile: papercut({ os: 'windows' }), loadBalancer: { floatingIp } });

/** The script with every single-quoted literal and every comment line removed: what PowerShell parses as code. */
function codeOutsideLiterals(script: string): string {
  return script
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n')
    .replace(/['‘’‚‛](?:[^'‘’‚‛]|['‘’‚‛]['‘’‚‛])*['‘’‚‛]/g, "''");
}

describe('renderWindowsBootScript', () => {
  it('PaperCut on AWS: FSx SMB share with a Secrets Manager credential, guard from S3', () => {
    expect(renderWindowsBootScript(windowsPaperCut(), awsContext)).toMatchSnapshot();
  });

  it('PaperCut on Azure with a floating IP: Azure Files SMB, Key Vault credential, guard from a blob, VIP', () => {
    expect(renderWindowsBootScript(windowsPaperCut(true), azureContext, { wrap: false })).toMatchSnapshot();
  });

  it('ThinPrint (dns mode): no share, no guard; only the app service', () => {
    // given
    const spec = parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) });
    const ctx: BootContext = { ...awsContext, thinprint: { nodeSubnetCidrs: ['10.0.1.0/24'] } };
    // when
    const script = renderWindowsBootScript(spec, ctx);
    // then
    expect(script).toMatchSnapshot();
    expect(script).not.toMatch(/failover-guard\.exe|map the share|SymbolicLink/);
  });

  it('wraps for EC2 user data by default and not when asked', () => {
    const wrapped = renderWindowsBootScript(windowsPaperCut(), awsContext);
    expect(wrapped.startsWith('<powershell>\n')).toBe(true);
    expect(wrapped.endsWith('</powershell>\n')).toBe(true);
    expect(renderWindowsBootScript(windowsPaperCut(), awsContext, { wrap: false })).toBe(wrapped.slice('<powershell>\n'.length, -'</powershell>\n'.length));
  });

  it('uses the UNC path and no mapping when the share needs no credentials (domain-joined FSx)', () => {
    const ctx: BootContext = { ...awsContext, share: { kind: 'smb', address: '//amznfsx1234.corp.example.com/share' } };
    const script = renderWindowsBootScript(windowsPaperCut(), ctx);
    expect(script).toContain("$ShareRoot = '\\\\amznfsx1234.corp.example.com\\share'");
    expect(script).not.toContain('New-SmbGlobalMapping');
  });

  it('fits in EC2 user data (16 KB)', () => {
    expect(Buffer.byteLength(renderWindowsBootScript(windowsPaperCut(true), azureContext))).toBeLessThan(16 * 1024);
  });

  it('keeps hostile spec values inside single-quoted literals only', () => {
    // given
    const hostile = ["it's", '$(New-Item INJECTED_1)', '`$(INJECTED_2)`', '"; INJECTED_3; "', "‘); INJECTED_4; (’", '$env:INJECTED_5'];
    const spec = parseClusterSpec({
      name: 'weird',
      profile: custom({
        displayName: 'Weird',
        os: 'windows',
        ports: [{ name: 'http', port: 8080 }],
        installDir: `C:\\Apps\\${hostile.join(' ')}`,
        sharedItems: hostile.map((h, i) => ({ path: `${h} ${i}`, type: 'file' as const })),
        deleteOnClone: ['INJECTED_6 $(x)'],
        serviceName: "svc'INJECTED_7",
        readiness: { kind: 'tcp', port: 8080 },
      }),
    });
    const ctx: BootContext = { ...awsContext, extraGuardSettings: [['notify.command', 'C:\\notify.exe "$(INJECTED_8)"']] };
    // when
    const script = renderWindowsBootScript(spec, ctx);
    // then
    expect(script).toMatch(/INJECTED_1/);
    expect(codeOutsideLiterals(script)).not.toMatch(/INJECTED/);
    expect(script).toContain("$AppService = 'svc''INJECTED_7'");
  });

  it('refuses an NFS share and a bad drive, naming the fields', () => {
    const ctx: BootContext = { ...awsContext, share: { kind: 'nfs', address: 'host:/x' }, windowsDrive: 'share' };
    expect(() => renderWindowsBootScript(windowsPaperCut(), ctx)).toThrow(/share\.kind: Windows nodes mount the share over SMB; use "smb"\n.*windowsDrive: must be a drive letter/);
  });
});
