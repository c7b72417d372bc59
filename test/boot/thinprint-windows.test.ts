import { renderWindowsBootScript, type BootContext, type ThinPrintNodeSettings, type WindowsBootScriptOptions } from '../../lib/boot';
import { azureGuardBlob, azureNodePlatform } from '../../lib/azure/azure-node-platform';
import { coveringNetwork, thinprintSettingsProblems } from '../../lib/boot/thinprint-windows';
import { AWS_NODE_PLATFORM } from '../../lib/aws/aws-node-platform';
import type { ClusterSpec } from '../../lib/spec';
import { ValidationError } from '../../lib/problems/problems';
import { parseClusterSpec, thinprint } from '../../lib/spec';
import { SHA } from '../harness/boot-contexts';
import { powershellSyntaxErrors } from '../harness/powershell-syntax';

const KEYS_AWS = 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:tpcs-clients-AbC';
const KEYS_AZURE = 'azure-keyvault:https://tp-kv.vault.azure.net/secrets/thinprint-clients';
/** A dns-multicast node on AWS: no guard, no share, no database. */
const renderWindowsDnsNodeScript = (spec: ClusterSpec, thinprint: ThinPrintNodeSettings, options?: WindowsBootScriptOptions) =>
  renderWindowsBootScript(spec, { mode: 'dns', platform: AWS_NODE_PLATFORM, thinprint }, options);
const dnsSpec = () => parseClusterSpec({ name: 'tpcs', profile: thinprint({ clusterMode: 'dns-multicast' }) });
const guardSpec = () => parseClusterSpec({ name: 'tpcs', profile: thinprint() });
const azureGuardContext: BootContext = {
  share: { kind: 'smb', address: '//tpshare.file.core.windows.net/thinprint' },
  mode: 'guard', platform: azureNodePlatform('6f1d2c3b-1a2b-4c5d-8e9f-0a1b2c3d4e5f'), guardBinary: azureGuardBlob({ url: 'https://tpassets.blob.core.windows.net/guard/failover-guard-win-x64.exe', sha256: SHA }),
  database: { url: 'postgres://guard@tp-db.postgres.database.azure.com:5432/thinprint?sslmode=require', passwordSource: 'azure-keyvault:https://tp-kv.vault.azure.net/secrets/db' },
  thinprint: { clientKeysSecretRef: KEYS_AZURE },
};

describe('coveringNetwork (MCastNodeIfBits)', () => {
  it.each([
    // the guide's example: 192.168.1.8–15 is a /29, 3 host bits
    [['192.168.1.11/29'], '192.168.1.8', 29, 3],
    [['10.0.1.0/24', '10.0.2.0/24'], '10.0.0.0', 22, 10],
    [['10.0.0.0/24', '10.0.1.0/24'], '10.0.0.0', 23, 9],
    [['10.0.4.0/26', '10.0.4.64/26', '10.0.4.128/25'], '10.0.4.0', 24, 8],
    [['172.16.0.0/16', '10.0.0.0/8'], '0.0.0.0', 0, 32],
    [['192.168.200.17/32'], '192.168.200.17', 32, 0],
  ])('%j → %s/%i (%i host bits)', (cidrs, network, prefix, hostBits) => {
    // when
    const net = coveringNetwork(cidrs);
    // then
    expect(net).toMatchObject({ network, prefixLength: prefix, hostBits });
    expect(net.last - net.first + 1).toBe(2 ** hostBits);
  });

  it('drops host bits of a CIDR and stays unsigned above 128.0.0.0', () => {
    const net = coveringNetwork(['200.1.2.77/24', '200.1.3.1/24']);
    expect(net).toEqual({ network: '200.1.2.0', prefixLength: 23, hostBits: 9, first: 200 * 2 ** 24 + 1 * 2 ** 16 + 2 * 256, last: 200 * 2 ** 24 + 1 * 2 ** 16 + 3 * 256 + 255 });
  });

  it('refuses anything but IPv4 CIDRs', () => {
    expect(() => coveringNetwork([])).toThrow(/no CIDR/);
    expect(() => coveringNetwork(['10.0.0.0/33'])).toThrow(/not an IPv4 CIDR/);
    expect(() => coveringNetwork(['10.0.0.256/24'])).toThrow(/not an IPv4 CIDR/);
  });
});

describe('ThinPrint node configuration (PowerShell)', () => {
  it('dns-multicast node on AWS: registry values, port, IGMPv2, client keys, restart only on change', () => {
    // when
    const script = renderWindowsDnsNodeScript(dnsSpec(), { clientKeysSecretRef: KEYS_AWS, nodeSubnetCidrs: ['10.0.1.0/24', '10.0.2.0/24'] });
    // then
    expect(script).toMatchSnapshot();
    expect(script).toContain("$TpRegistryKey = 'HKLM:\\SOFTWARE\\ThinPrint\\TPConnect'");
    expect(script).toContain("$TpNodeNetwork = '10.0.0.0/22'");
    expect(script).toContain(`$TpNodeNetworkFirst = [uint32]'${10 * 2 ** 24}'`);
    expect(script).toContain(`$TpNodeNetworkLast = [uint32]'${10 * 2 ** 24 + 1023}'`);
    expect(script).toContain("$TpMCastNodeIfBits = [int]'10'");
    expect(script).toContain("$TpServerPort = [int]'4002'");
    expect(script).toContain("$TpServerPortValue = 'ServerPort'");
    expect(script).toContain("$TpConnectExe = 'C:\\Program Files\\ThinPrint\\Connection Service\\tpconnect.exe'");
    expect(script).toContain(`$TpClientKeysSecretRef = '${KEYS_AWS}'`);
    expect(script).toContain("Set-RegistryValue $TpRegistryKey 'MCastNodeInterface' 'String' $own[0].IPAddress");
    expect(script).toContain("Set-RegistryValue $TpRegistryKey 'MCastNodeIfBits' 'DWord' $TpMCastNodeIfBits");
    expect(script).toContain("Set-RegistryValue $TpRegistryKey $TpServerPortValue 'DWord' $TpServerPort");
    expect(script).toContain("Set-RegistryValue $TcpipParametersKey 'IGMPVersion' 'DWord' 3");
    expect(script).toContain('& $TpConnectExe -add $pair');
    expect(script).toContain('function Get-SecretText');
    expect(script).not.toContain('function Get-ImdsToken'); // AWS: the instance role, no Azure metadata token
    // restart only when a value changed and the service runs; no guard on dns nodes
    expect(script).toMatch(/if \(\$changed -and \(Get-Service -Name \$AppService\)\.Status -eq 'Running'\) \{\n\s*Restart-Service -Name \$AppService -Force/);
    expect(script).not.toMatch(/failover-guard\.exe|GuardService/);
    expect(Buffer.byteLength(script)).toBeLessThan(16 * 1024); // EC2 user data limit
    // order: configure, start the service, check the port, reboot once for IGMPv2
    const order = ['configure the ThinPrint', 'start the app service', 'check the server port', 'reboot once for IGMPv2'].map((s) => script.indexOf(`Invoke-Step '${s}`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('single-active node on Azure: no multicast values; the guard starts the service; keys from Key Vault', () => {
    // when
    const script = renderWindowsBootScript(guardSpec(), azureGuardContext, { wrap: false });
    // then
    expect(script).toMatchSnapshot();
    expect(script).not.toMatch(/MCastNode|IGMPVersion|TpNodeNetwork|check the server port/);
    expect(script).toContain("Set-RegistryValue $TpRegistryKey $TpServerPortValue 'DWord' $TpServerPort");
    expect(script).toContain(`$TpClientKeysSecretRef = '${KEYS_AZURE}'`);
    expect(script).toContain('function Get-ImdsToken');
    expect(script).toContain('function Get-SecretText');
    // configured before the guard service can start the app
    expect(script.indexOf("Invoke-Step 'configure the ThinPrint")).toBeLessThan(script.indexOf("Invoke-Step 'install the guard service'"));
    expect(script).not.toContain("Invoke-Step 'start the app service'");
  });

  it('single-active: the guard calls the node ready only once it listens on the server port 4002', () => {
    // given: the port's registry value name is documented nowhere but the vendor's console
    const script = renderWindowsBootScript(guardSpec(), azureGuardContext, { wrap: false });
    // then: the dns script checks 4002 after the start; a guarded node's readiness does it
    expect(guardSpec().profile.readiness).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4002 });
    expect(script).toContain('service.ready=tcp://127.0.0.1:4002');
  });

  it('adds no client when no secret is given, and keeps keys out of the log and the script', () => {
    const script = renderWindowsDnsNodeScript(dnsSpec(), { nodeSubnetCidrs: ['10.0.1.0/24'] });
    expect(script).toContain("$TpClientKeysSecretRef = ''");
    expect(script).toContain('if ($TpClientKeysSecretRef) {');
    expect(script).not.toContain('function Get-SecretText');
    // only the count and the client id reach the log; a digest, never the keys, is stored
    expect(script).not.toMatch(/Write-Log[^\n]*\$(key|pair)\b/);
    expect(script).toContain("Set-FileContent $digestPath $digest");
  });

  it('forgets the parsed keys after use, also when the secret lists no client', () => {
    const script = renderWindowsDnsNodeScript(dnsSpec(), { clientKeysSecretRef: KEYS_AWS, nodeSubnetCidrs: ['10.0.1.0/24'] });
    // an empty list never binds $client/$key: removing them must not stop the script
    expect(script).toContain("Remove-Variable -Name @('parsed', 'pairs', 'client', 'key') -ErrorAction SilentlyContinue");
  });

  it('quotes a hostile install dir and secret reference as data', () => {
    // given
    const profile = { ...thinprint({ clusterMode: 'dns-multicast' }), installDir: "C:\\Tp ‘x’ $(whoami) `n" };
    const spec = parseClusterSpec({ name: 'tpcs', profile });
    const ref = "aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:a'b$(x)";
    // when
    const script = renderWindowsDnsNodeScript(spec, { clientKeysSecretRef: ref, nodeSubnetCidrs: ['10.0.1.0/24'] });
    // then
    expect(script).toContain("$TpConnectExe = 'C:\\Tp ‘‘x’’ $(whoami) `n\\tpconnect.exe'");
    expect(script).toContain("$TpClientKeysSecretRef = 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:a''b$(x)'");
  });

  it.each<[string, () => string]>([
    ['thinprint.nodeSubnetCidrs: is required', () => renderWindowsDnsNodeScript(dnsSpec(), {})],
    ['thinprint.nodeSubnetCidrs[1]: "10.0.2.0" is not an IPv4 CIDR', () => renderWindowsDnsNodeScript(dnsSpec(), { nodeSubnetCidrs: ['10.0.1.0/24', '10.0.2.0'] })],
    ['thinprint.nodeSubnetCidrs[0]: must be a literal CIDR', () => renderWindowsDnsNodeScript(dnsSpec(), { nodeSubnetCidrs: ['${TfToken[TOKEN.1]}'] })],
    ['thinprint.nodeSubnetCidrs: only for clusterMode "dns-multicast"', () => renderWindowsBootScript(guardSpec(), { ...azureGuardContext, thinprint: { nodeSubnetCidrs: ['10.0.1.0/24'] } })],
    ['thinprint.clientKeysSecretRef: must be file:<absolute path>, aws-secretsmanager:<arn> or azure-keyvault:<secret-url>; env:', () => renderWindowsDnsNodeScript(dnsSpec(), { clientKeysSecretRef: 'env:TP_KEYS', nodeSubnetCidrs: ['10.0.1.0/24'] })],
  ])('refuses bad settings: %s', (expected, render) => {
    let error: unknown;
    try {
      render();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => `${p.path}: ${p.message}`).some((m) => m.startsWith(expected))).toBe(true);
  });

  it('ThinPrint settings on another app are refused', () => {
    const spec = parseClusterSpec({ name: 'pc', profile: { ...thinprint(), app: 'custom', clusterMode: undefined } });
    expect(thinprintSettingsProblems(spec, { clientKeysSecretRef: KEYS_AWS })).toEqual([{ path: 'thinprint', message: 'only for the ThinPrint profile' }]);
  });

  it('every rendered ThinPrint script parses as PowerShell (tree-sitter grammar)', async () => {
    // given
    const scripts = [
      renderWindowsDnsNodeScript(dnsSpec(), { clientKeysSecretRef: KEYS_AWS, nodeSubnetCidrs: ['10.0.1.0/24', '10.0.2.0/24'] }),
      renderWindowsDnsNodeScript(dnsSpec(), { nodeSubnetCidrs: ['10.0.1.0/24'] }),
      renderWindowsBootScript(guardSpec(), azureGuardContext, { wrap: false }),
      renderWindowsDnsNodeScript(parseClusterSpec({ name: 'tpcs', profile: { ...thinprint({ clusterMode: 'dns-multicast' }), installDir: "C:\\Tp ‘x’ $(whoami) `n" } }), {
        clientKeysSecretRef: "aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:a'b$(x)",
        nodeSubnetCidrs: ['10.0.1.0/24'],
      }),
    ];
    // when / then
    for (const script of scripts) expect(await powershellSyntaxErrors(script)).toEqual([]);
  });

  it('the syntax check finds a broken script (so the test above can fail)', async () => {
    const script = renderWindowsDnsNodeScript(dnsSpec(), { nodeSubnetCidrs: ['10.0.1.0/24'] });
    expect(await powershellSyntaxErrors(script.replace("Invoke-Step 'check the server port' {", "Invoke-Step 'check the server port' {{"))).not.toEqual([]);
    expect(await powershellSyntaxErrors(script.replace("$TpServerPortValue = 'ServerPort'", "$TpServerPortValue = 'Server'Port'"))).not.toEqual([]);
  });
});
