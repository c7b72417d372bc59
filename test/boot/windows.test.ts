import { renderWindowsBootScript, type BootContext } from '../../lib/boot';
import { AWS_NODE_PLATFORM, awsGuardBinary, awsLifecycleHookWatch } from '../../lib/aws/aws-node-platform';
import { AZURE_SCHEDULED_EVENTS_WATCH, azureCustomDataCommand, azureGuardBlob, azureNodePlatform } from '../../lib/azure/azure-node-platform';
import { LINK_TARGET_PREFIXES, plainLinkPath, sameLinkTarget } from '../../lib/boot/windows';
import { WINDOWS_INSTALL_COMMANDS } from '../../apps/examples/azure-papercut/stack';
import { GP_SCRIPTS_EXTENSION, windowsLifecycleWatcher, windowsShutdownHandover } from '../../lib/boot/windows-lifecycle';
import { unpackPowerShell } from '../../lib/boot/powershell-compact';
import { powershellCommands, powershellSyntaxErrors } from '../harness/powershell-syntax';
import { custom, papercut, parseClusterSpec, thinprint } from '../../lib/spec';
import { APP, DB, SHA } from '../harness/boot-contexts';

const awsContext: BootContext = {
  share: { kind: 'smb', address: '//amznfsx1234.corp.example.com/share', credentialsSecretRef: 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:smb-XyZ' },
  mode: 'guard', platform: AWS_NODE_PLATFORM, guardBinary: awsGuardBinary({ bucket: 'fg-assets-123', key: 'guard/failover-guard-win-x64.exe', region: 'eu-west-1', sha256: SHA }),
  database: DB,
  app: APP,
};
const azureContext: BootContext = {
  share: { kind: 'smb', address: '//fgshare.file.core.windows.net/papercut', credentialsSecretRef: 'azure-keyvault:https://fg-kv.vault.azure.net/secrets/smb' },
  mode: 'guard', platform: azureNodePlatform('6f1d2c3b-1a2b-4c5d-8e9f-0a1b2c3d4e5f'), guardBinary: azureGuardBlob({ url: 'https://fgassets.blob.core.windows.net/guard/failover-guard-win-x64.exe', sha256: SHA }),
  database: { url: 'postgres://guard@fg-db.postgres.database.azure.com:5432/papercut?sslmode=require', passwordSource: 'azure-keyvault:https://fg-kv.vault.azure.net/secrets/db' },
  loopbackVip: '10.20.0.100',
  windowsDrive: 'P:',
  app: { database: { url: 'postgres://papercut_app@fg-db.postgres.database.azure.com:5432/papercut_app?sslmode=require', passwordSource: 'azure-keyvault:https://fg-kv.vault.azure.net/secrets/app' }, networkAddress: '10.20.0.100' },
};
/** A custom Windows app whose paths and names the test chooses. */
const weirdApp = (over: Partial<Parameters<typeof custom>[0]>) =>
  parseClusterSpec({
    name: 'weird',
    profile: custom({
      displayName: 'Weird',
      os: 'windows',
      ports: [{ name: 'http', port: 8080 }],
      installDir: 'C:\\Apps\\weird',
      sharedItems: [],
      serviceName: 'App',
      readiness: { kind: 'tcp', port: 8080 },
      ...over,
    }),
  });
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
    const ctx: BootContext = { mode: 'dns', platform: AWS_NODE_PLATFORM, thinprint: { nodeSubnetCidrs: ['10.0.1.0/24'] } };
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

  it('fits in EC2 user data (16 KB): packed when longer, the same script inside', async () => {
    // given
    const plain = renderWindowsBootScript(windowsPaperCut(), awsContext, { wrap: false });
    // when
    const packed = renderWindowsBootScript(windowsPaperCut(), awsContext, { wrap: false, maxBytes: 12 * 1024 });
    // then
    expect(Buffer.byteLength(plain)).toBeGreaterThan(12 * 1024);
    expect(Buffer.byteLength(packed)).toBeLessThan(12 * 1024);
    expect(unpackPowerShell(packed)).toBe(plain);
    expect(packed.startsWith('# failover-constructs boot script for cluster print')).toBe(true);
    expect(await powershellSyntaxErrors(packed)).toEqual([]);
    // short enough: left as it is
    expect(renderWindowsBootScript(windowsPaperCut(), awsContext, { wrap: false, maxBytes: 64 * 1024 })).toBe(plain);
  });

  it('keeps hostile spec values inside single-quoted literals only', () => {
    // given
    // (no double quote: no Windows path holds one, see the next test)
    const hostile = ["it's", '$(New-Item INJECTED_1)', '`$(INJECTED_2)`', '%; INJECTED_3 & ^|', "‘); INJECTED_4; (’", '$env:INJECTED_5'];
    const spec = weirdApp({
      installDir: `C:\\Apps\\${hostile.join(' ')}`,
      sharedItems: hostile.map((h, i) => ({ path: `${h} ${i}`, type: 'file' as const })),
      deleteOnClone: ['INJECTED_6 $(x)'],
      serviceName: "svc'INJECTED_7",
    });
    const ctx: BootContext = { ...awsContext, extraGuardSettings: [['notify.command', 'C:\\notify.exe "$(INJECTED_8)"']] };
    // when
    const script = renderWindowsBootScript(spec, ctx);
    // then
    expect(script).toMatch(/INJECTED_1/);
    expect(codeOutsideLiterals(script)).not.toMatch(/INJECTED/);
    expect(script).toContain("$AppService = 'svc''INJECTED_7'");
  });

  it('refuses a double quote in a Windows path (the links reach cmd inside double quotes), naming the field', () => {
    const spec = weirdApp({ installDir: 'C:\\Apps\\a"b', sharedItems: [{ path: 'ok.txt', type: 'file' }, { path: 'x" & calc & "', type: 'file' }] });
    expect(() => renderWindowsBootScript(spec, awsContext)).toThrow(/profile\.installDir: must be a Windows path: no double quote.*\n.*sharedItems\[1\]\.path: must be a Windows path/);
  });

  describe('the forms Windows PowerShell 5.1 and the SCM need', () => {
    const script = renderWindowsBootScript(windowsPaperCut(), awsContext);
    const code = codeOutsideLiterals(script);

    it('never registers the guard binary as a service itself (it cannot answer the SCM: error 1053)', () => {
      expect(code).not.toMatch(/New-Service/i);
      expect(code).not.toMatch(/sc(\.exe)?\s+create/i);
      // the service host registers itself from its XML, which the guard writes beside it
      expect(script).toContain('& $GuardExe --config $GuardConfig service-host --out $ServiceHostExe');
      expect(script).toContain('& $ServiceHostExe install');
      expect(script).toContain("$ServiceHostExe = 'C:\\Program Files\\failover-guard\\failover-guard-service.exe'");
    });

    it('unpacks the gzip download with GZipStream, then hashes and installs the unpacked binary (read, not run)', () => {
      const step = script.slice(script.indexOf("Invoke-Step 'install the guard binary'"), script.indexOf("Invoke-Step 'write the guard config'"));
      const order = [
        '$download = "$GuardExe.download.gz"',
        'Read-S3Object',
        'New-Object System.IO.Compression.GZipStream($packed, [System.IO.Compression.CompressionMode]::Decompress)',
        '$gzip.CopyTo($out)',
        'Get-FileHash -Algorithm SHA256 -LiteralPath $unpacked',
        'Move-Item -LiteralPath $unpacked -Destination $GuardExe',
      ].map((s) => step.indexOf(s));
      expect(order.every((at) => at >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(step).not.toContain('-LiteralPath $download).Hash');
    });

    it('replaces a registration made on the guard binary by an older boot script', () => {
      expect(script).toMatch(/\$registered\.PathName -notlike .*\n\s*Stop-Service -Name \$GuardService -Force.*\n\s*sc\.exe delete \$GuardService/);
    });

    it('links with mklink (missing targets allowed), /D for directories, never New-Item SymbolicLink', () => {
      expect(code).not.toMatch(/New-Item[^\n]*SymbolicLink/i);
      expect(script).toContain(`$mklink = @('/d', '/v:off', '/c', 'mklink') + @(if ($Directory) { '/D' }) + @('"%FG_LINK%"', '"%FG_LINK_TARGET%"')`);
      expect(script).toContain('$out = & cmd.exe @mklink 2>&1');
      expect(script).toContain("New-SymbolicLink $local $target ($SharedTypes[$i] -eq 'directory')");
    });

    it('takes the guard out of the app service dependencies (the SCM would refuse to stop the guard, or stop the app first)', () => {
      expect(script).toMatch(/if \(\$depends -contains \$GuardService\) \{\n\s*\$rest = @\(\$depends \| Where-Object \{ \$_ -ne \$GuardService \}\)/);
      expect(script).not.toMatch(/\(\$depends \+ \$GuardService\)/);
    });

    it('waits for the domain join when the share has no credentials (machine identity)', () => {
      const ctx: BootContext = { ...awsContext, share: { kind: 'smb', address: '//amznfsx1234.corp.example.com/share' } };
      // a bounded wait (the join reboots the node); no join in time fails the run, never a silent exit 0
      expect(renderWindowsBootScript(windowsPaperCut(), ctx)).toMatch(
        /if \(-not \(Get-CimInstance -ClassName Win32_ComputerSystem\)\.PartOfDomain\) \{\n(?:.*\n){1,2}\s*while \(-not \(Get-CimInstance -ClassName Win32_ComputerSystem\)\.PartOfDomain\) \{\n.*throw "not joined to a domain after 20 min/,
      );
    });
  });

  describe('links on UNC shares', () => {
    // What Windows PowerShell 5.1's .Target shows for a link (left) and what the script wants (right).
    const cases: Array<[string, string, boolean]> = [
      ['UNC\\amznfsx1234.corp.example.com\\share\\data', '\\\\amznfsx1234.corp.example.com\\share\\data', true],
      ['unc\\FS\\Share\\data\\', '\\\\fs\\share\\data', true],
      ['\\??\\UNC\\fs\\share\\data', '\\\\fs\\share\\data', true],
      ['\\\\?\\UNC\\fs\\share\\data', '\\\\fs\\share\\data', true],
      ['\\??\\P:\\data', 'P:\\data', true],
      ['P:\\data', 'P:\\data', true],
      ['UNC\\fs\\share\\data', '\\\\fs\\share\\other', false],
      ['UNC\\fs\\share\\data', 'P:\\data', false],
      ['C:\\UNC\\fs', '\\\\fs', false],
    ];

    it.each(cases)('%s is %s: %s', (target, wanted, same) => {
      expect(sameLinkTarget(target, wanted)).toBe(same);
    });

    it('compares plain forms on both sides in the link step, with the same prefix table', async () => {
      // given
      const script = renderWindowsBootScript(windowsPaperCut(), awsContext);
      // then: a raw comparison relinks (and stops the app) on every boot
      expect(script).toContain(
        'if ((ConvertTo-PlainPath (Get-LinkTarget (Join-Literal $InstallDir $SharedPaths[$i]))) -ne (ConvertTo-PlainPath (Join-Literal $ShareRoot $SharedPaths[$i]))) { $i }',
      );
      const table = `$LinkTargetPrefixes = @(${LINK_TARGET_PREFIXES.map(([a, b]) => `@('${a}', '${b}')`).join(', ')})`;
      expect(script).toContain(table);
      expect(script).toContain('if ($Path.StartsWith($pair[0], [System.StringComparison]::OrdinalIgnoreCase)) { $Path = $pair[1] + $Path.Substring($pair[0].Length); break }');
      expect(plainLinkPath('UNC\\fs\\share')).toBe('\\\\fs\\share');
      expect(await powershellSyntaxErrors(script)).toEqual([]);
    });
  });

  describe('cloud calls', () => {
    /** What reaches a cloud endpoint from a Windows node (cmdlets and their aliases). */
    const CLOUD_CALLS = /^(Invoke-RestMethod|Invoke-WebRequest|irm|iwr|curl|wget|Read-S3Object|Copy-S3Object|Get-SECSecretValue|Get-S3Object|Start-BitsTransfer)$/i;
    const thinprintCtx: BootContext = { ...awsContext, thinprint: { clientKeysSecretRef: 'azure-keyvault:https://fg-kv.vault.azure.net/secrets/tp' } };
    const scripts: Array<[string, string]> = [
      ['PaperCut on AWS', renderWindowsBootScript(windowsPaperCut(), awsContext)],
      ['PaperCut on Azure', renderWindowsBootScript(windowsPaperCut(true), azureContext)],
      ['ThinPrint single-active', renderWindowsBootScript(parseClusterSpec({ name: 'tp', profile: thinprint() }), thinprintCtx)],
      ['ThinPrint dns', renderWindowsBootScript(parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }), { mode: 'dns', platform: AWS_NODE_PLATFORM, thinprint: { ...thinprintCtx.thinprint, nodeSubnetCidrs: ['10.0.1.0/24'] } })],
    ];

    it.each(scripts)('%s: every cloud call runs inside Invoke-WithRetry', async (_name, script) => {
      // given
      const commands = await powershellCommands(script);
      // when
      const calls = commands.filter((c) => CLOUD_CALLS.test(c.name));
      // then
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.filter((c) => c.within[0] !== 'Invoke-WithRetry').map((c) => `${c.line}: ${c.text}`)).toEqual([]);
    });

    it.each(scripts)('%s: a malformed secret is reported without its text', async (_name, script) => {
      // given: ConvertFrom-Json puts the text it fails on into its error message
      const parses = (await powershellCommands(script)).filter((c) => /^ConvertFrom-Json$/i.test(c.name));
      // then: the only parse is the helper's, whose catch throws a message of its own
      expect(parses.map((c) => c.text)).toEqual(script.includes('Get-SecretText') ? ['ConvertFrom-Json -InputObject $Text'] : []);
      if (parses.length > 0) expect(script).toContain("catch { throw \"the secret $What is not valid JSON (its text is not shown)\" }");
      expect(script).not.toMatch(/\|\s*ConvertFrom-Json/i);
    });

    it('retries 60 times, 10 s apart, and forces TLS 1.2 before any call', () => {
      const script = scripts[0][1];
      expect(script).toMatch(/function Invoke-WithRetry\(\[string\]\$What, \[scriptblock\]\$Call\) \{\nfor \(\$try = 1; ; \$try\+\+\) \{\ntry \{ return \(& \$Call\) \}/);
      expect(script).toContain('if ($try -ge 60) {');
      expect(script).toContain('Start-Sleep -Seconds 10');
      expect(script.indexOf('[Net.SecurityProtocolType]::Tls12')).toBeLessThan(script.indexOf('function Invoke-WithRetry'));
    });
  });

  describe('Windows Firewall', () => {
    const ruleLines = (script: string) => script.split('\n').filter((l) => l.startsWith('Set-InboundRule '));

    it("Azure: the guard's port from the load balancer's probe address only, the app ports from clients", async () => {
      // given
      const script = renderWindowsBootScript(windowsPaperCut(true), azureContext);
      // then
      expect(script).toContain("$ProbeSources = @('168.63.129.16')");
      expect(script).toContain("$GuardPort = '9180'");
      expect(script).toContain("$AppTcpPorts = @('9191', '9192', '9193')");
      expect(ruleLines(script)).toEqual(["Set-InboundRule 'failover-guard-health' 'TCP' @($GuardPort) $ProbeSources", "Set-InboundRule ('failover-app-' + $ClusterName) 'TCP' $AppTcpPorts $AppSources"]);
      expect(script).toMatch(/New-NetFirewallRule -Name \$Name -DisplayName \$Name @rule/);
      expect(script).toContain("$rule = @{ Direction = 'Inbound'; Action = 'Allow'; Protocol = $Protocol; LocalPort = $Ports; RemoteAddress = $Sources; Profile = 'Any'; Enabled = 'True' }");
      // before the guard (and so the app) starts
      expect(script.indexOf("Invoke-Step 'open the firewall")).toBeLessThan(script.indexOf("Invoke-Step 'install the guard service'"));
      expect(await powershellSyntaxErrors(script)).toEqual([]);
    });

    it("AWS: the guard's port from the NLB's subnets; the app ports from the spec's CIDRs and the NLB", () => {
      const spec = parseClusterSpec({ name: 'print', profile: papercut({ os: 'windows' }), loadBalancer: { allowedCidrs: ['192.168.0.0/16'] } });
      const script = renderWindowsBootScript(spec, { ...awsContext, healthProbeSources: ['10.0.0.0/24', '10.0.1.0/24'] });
      expect(script).toContain("$ProbeSources = @('10.0.0.0/24', '10.0.1.0/24')");
      expect(script).toContain("$AppSources = @('192.168.0.0/16', '10.0.0.0/24', '10.0.1.0/24')");
    });

    it('ThinPrint: 4000-4002 in both modes; dns mode also UDP among the nodes (multicast)', () => {
      const single = renderWindowsBootScript(parseClusterSpec({ name: 'tp', profile: thinprint() }), awsContext);
      const dns = renderWindowsBootScript(parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }), { mode: 'dns', platform: AWS_NODE_PLATFORM, thinprint: { nodeSubnetCidrs: ['10.0.1.0/24'] } });
      for (const script of [single, dns]) expect(script).toContain("$AppTcpPorts = @('4000', '4001', '4002')");
      expect(ruleLines(single)).toContain("Set-InboundRule 'failover-guard-health' 'TCP' @($GuardPort) $ProbeSources");
      expect(ruleLines(dns)).toEqual(["Set-InboundRule ('failover-app-' + $ClusterName) 'TCP' $AppTcpPorts $AppSources", "Set-InboundRule 'failover-thinprint-cluster' 'UDP' @('Any') @($TpNodeNetwork)"]);
    });
  });

  describe('smaller Windows PowerShell 5.1 matters', () => {
    it('asks EC2Launch to run the script again after the domain join reboot (<persist>)', () => {
      const noCredentials: BootContext = { ...awsContext, share: { kind: 'smb', address: '//amznfsx1234.corp.example.com/share' } };
      expect(renderWindowsBootScript(windowsPaperCut(), noCredentials).endsWith('</powershell>\n<persist>true</persist>\n')).toBe(true);
      expect(renderWindowsBootScript(windowsPaperCut(), awsContext)).not.toContain('<persist>');
    });

    it('writes the Azure custom data as UTF-8 with a BOM before running it, and passes its exit code on', () => {
      const command = azureCustomDataCommand('C:\\AzureData\\failover-boot.ps1');
      expect(command).toContain("[IO.File]::WriteAllText('C:\\AzureData\\failover-boot.ps1', [IO.File]::ReadAllText('C:\\AzureData\\CustomData.bin', [Text.Encoding]::UTF8), (New-Object Text.UTF8Encoding($true)))");
      expect(command).toMatch(/; & 'C:\\AzureData\\failover-boot\.ps1'; exit \$LASTEXITCODE"$/);
      expect(command).not.toContain('Copy-Item');
    });

    it("keys the clone identity on the cloud's instance id, never the MachineGuid", () => {
      for (const ctx of [awsContext, azureContext]) {
        const script = renderWindowsBootScript(windowsPaperCut(), { ...ctx, loopbackVip: undefined });
        expect(script).not.toContain('MachineGuid');
        expect(script).toContain(ctx === awsContext ? "-Uri 'http://169.254.169.254/latest/meta-data/instance-id'" : "-Uri 'http://169.254.169.254/metadata/instance/compute/vmId?api-version=2021-02-01&format=text'");
        expect(script).toContain('if ($cleared -ne $instance) {');
      }
    });

    it("the example's installer: its exit code is checked (-Wait alone loses it)", async () => {
      const commands = (await powershellCommands(WINDOWS_INSTALL_COMMANDS.join('\n'))).filter((c) => c.name === 'Start-Process');
      expect(commands).toHaveLength(1);
      expect(commands[0].text).toMatch(/-Wait -PassThru$/);
      expect(WINDOWS_INSTALL_COMMANDS.join('\n')).toContain('if ($setup.ExitCode -ne 0) { throw');
    });
  });

  it('Print Deploy as on Linux: its data seeded under the seed lock, config\\ created before client.conf.toml', async () => {
    // given
    const spec = parseClusterSpec({ name: 'print', profile: papercut({ os: 'windows', printDeploy: true }) });
    const script = renderWindowsBootScript(spec, awsContext);
    const step = script.slice(script.indexOf("Invoke-Step 'make Print Deploy failover-aware'"));
    // then
    expect(step).toMatch(/\$lock = Enter-SeedLock\ntry \{\nif \(-not \(Test-Path -LiteralPath \$pdTarget\)\) \{/);
    expect(step).toContain('} finally { $lock.Dispose() }');
    expect(step).toContain('if ((ConvertTo-PlainPath (Get-LinkTarget $pdData)) -ne (ConvertTo-PlainPath $pdTarget)) {');
    const mkdir = step.indexOf('[System.IO.Directory]::CreateDirectory((Split-Path -Parent $toml)) | Out-Null');
    expect(mkdir).toBeGreaterThan(0);
    expect(mkdir).toBeLessThan(step.indexOf('Set-FileContent $toml $text'));
    expect(await powershellSyntaxErrors(script)).toEqual([]);
  });

  describe('hand over before the cloud replaces or restarts the node', () => {
    const aws = awsLifecycleHookWatch({ autoScalingGroupName: 'print-nodes', hookName: 'failover-guard-handover', region: 'eu-west-1' });
    const azure = AZURE_SCHEDULED_EVENTS_WATCH;

    it.each([
      ['AWS lifecycle hook', aws],
      ['Azure scheduled events', azure],
    ] as const)('%s: step down, then stop the guard (drain, app, lease), then let the node go', async (_name, notice) => {
      // given
      const watcher = windowsLifecycleWatcher(windowsPaperCut(), notice);
      // when
      const order = ['$notice = Wait-ForNotice', '& $GuardExe step-down --config $GuardConfig', 'Stop-Service -Name $GuardService', "Write-Log 'guard stopped'\nComplete-Notice"].map((s) => watcher.indexOf(s));
      // then
      expect(order.every((i) => i > 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(watcher).toContain("$HealthUrl = 'http://127.0.0.1:9180/health'");
      expect(await powershellSyntaxErrors(watcher)).toEqual([]);
    });

    it('AWS: waits for the target lifecycle state Terminated and completes the hook with CONTINUE', () => {
      const watcher = windowsLifecycleWatcher(windowsPaperCut(), aws);
      expect(watcher).toContain("if ((Get-Imds 'autoscaling/target-lifecycle-state') -eq 'Terminated') { return 'Terminate' }");
      expect(watcher).toContain("Complete-ASLifecycleAction -Region $Region -AutoScalingGroupName $AsgName -LifecycleHookName $HookName -InstanceId $instance -LifecycleActionResult 'CONTINUE'");
    });

    it('Azure: Terminate, Reboot, Redeploy and Preempt of this VM, approved through StartRequests', () => {
      const watcher = windowsLifecycleWatcher(windowsPaperCut(), azure);
      expect(watcher).toContain("$HandoverEvents = @('Terminate', 'Reboot', 'Redeploy', 'Preempt')");
      expect(watcher).toContain('@($_.Resources) -contains $vm');
      expect(watcher).toContain('StartRequests = @(@{ EventId = $script:EventId })');
    });

    it('an OS shutdown the cloud did not announce: a computer shutdown script steps down and stops the guard before the services stop', async () => {
      // given
      const handover = windowsShutdownHandover(windowsPaperCut());
      const script = renderWindowsBootScript(windowsPaperCut(), awsContext);
      // then: step-down (only when active), then the guard's graceful stop
      const order = ['$active = (Invoke-WebRequest -UseBasicParsing -Uri $HealthUrl -TimeoutSec 5).StatusCode -eq 200', '& $GuardExe step-down --config $GuardConfig', 'Stop-Service -Name $GuardService'].map((x) => handover.indexOf(x));
      expect(order.every((i) => i > 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(await powershellSyntaxErrors(handover)).toEqual([]);
      // registered in the local Group Policy: psscripts.ini as UTF-16LE, the Scripts extension in gpt.ini, a new machine version
      const step = script.slice(script.indexOf("Invoke-Step 'hand over at OS shutdown (computer shutdown script)'"));
      expect(step).toContain("$name = 'failover-guard-handover.ps1'");
      expect(step).toContain('[System.IO.File]::WriteAllLines($ini, $out, [System.Text.Encoding]::Unicode)');
      expect(step).toContain(`$cse = '${GP_SCRIPTS_EXTENSION}'`);
      expect(step).toContain('$raised = ($version -band 0xFFFF0000) -bor ((($version -band 0xFFFF) + 1) -band 0xFFFF)');
      expect(step).toContain('gpupdate.exe /target:computer /force | Out-Null');
      expect(script.indexOf("Invoke-Step 'hand over at OS shutdown")).toBeGreaterThan(script.indexOf("Invoke-Step 'install the guard service'"));
      expect(await powershellSyntaxErrors(script)).toEqual([]);
    });

    it('the boot script installs it as a SYSTEM task at every start, after the guard service', async () => {
      const script = renderWindowsBootScript(windowsPaperCut(), { ...awsContext, replacement: aws });
      const step = script.indexOf("Invoke-Step 'install the lifecycle watcher'");
      expect(step).toBeGreaterThan(script.indexOf("Invoke-Step 'install the guard service'"));
      expect(script).toContain("Register-ScheduledTask -TaskName $watcherTask -Action $action -Trigger (New-ScheduledTaskTrigger -AtStartup) -Settings $settings -User 'SYSTEM' -RunLevel Highest -Force | Out-Null");
      expect(await powershellSyntaxErrors(script)).toEqual([]);
      expect(renderWindowsBootScript(windowsPaperCut(), awsContext)).not.toContain('install the lifecycle watcher');
    });
  });

  it('stops the app and sets it to Manual before the share is seeded from its files', () => {
    // given
    const script = renderWindowsBootScript(windowsPaperCut(), awsContext);
    // when
    const stop = script.indexOf("Invoke-Step 'keep the app stopped until the guard starts it'");
    const seed = script.indexOf("Invoke-Step 'seed the share'");
    // then
    expect(stop).toBeGreaterThan(0);
    expect(stop).toBeLessThan(seed);
    const step = script.slice(stop, seed);
    expect(step).toContain("Set-Service -Name $AppService -StartupType Manual");
    expect(step).toContain('Stop-Service -Name $AppService -Force');
    // not under a running guard (a later boot): the guard owns the app then
    expect(step).toMatch(/if \(\$null -eq \$guard -or \$guard\.Status -eq 'Stopped'\)/);
  });

  it('refuses an NFS share and a bad drive, naming the fields', () => {
    const ctx: BootContext = { ...awsContext, share: { kind: 'nfs', address: 'host:/x' }, windowsDrive: 'share' };
    expect(() => renderWindowsBootScript(windowsPaperCut(), ctx)).toThrow(/share\.kind: Windows nodes mount the share over SMB; use "smb"\n.*windowsDrive: must be a drive letter/);
  });
});

describe('packed boot script', () => {
  it('keeps Terraform references outside the compressed blob and puts them back in place', () => {
    // given: a token where the AWS construct passes one (the bucket, the load balancer address)
    const token = '${TfToken[TOKEN.42]}';
    const ctx: BootContext = { ...awsContext, guardBinary: awsGuardBinary({ bucket: token, key: 'guard/failover-guard-win-x64.exe', region: 'eu-west-1', sha256: SHA }), app: { ...APP, networkAddress: token } };
    const plain = renderWindowsBootScript(windowsPaperCut(), ctx, { wrap: false });
    // when
    const packed = renderWindowsBootScript(windowsPaperCut(), ctx, { wrap: false, maxBytes: 4096 });
    // then: Terraform sees the token in the plain values and once in a plain literal of the stub
    const blob = /^\$packed = .*$/m.exec(packed)![0];
    expect(plain.split(token).length - 1).toBeGreaterThan(2);
    expect(packed.split(token).length - 1).toBe(2);
    expect(blob).not.toContain('TfToken');
    expect(packed).toContain(`$text = $text.Replace('@@failover-token-0@@', '${token}')`);
    expect(unpackPowerShell(packed)).toBe(plain);
  });
});
