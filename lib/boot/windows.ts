import { compactPowerShell, packPowerShell } from './powershell-compact';
import type { ClusterSpec } from '../spec/cluster-spec';
import type { BootContext } from './context';
import { NO_SHARE, SHARE_FILES, WINDOWS, checkBootInput, guardConfigText, loopbackVip, oneLine, smbSecretRef, usesGuard, usesImds, usesShare, managedIdentityClientId } from './plan';
import { psArray, psQuote } from './quote';
import { windowsAppSteps } from './app-steps';
import { thinprintScriptParts, type ThinPrintNodeSettings } from './thinprint-windows';
import { windowsLifecycleStep, windowsShutdownStep } from './windows-lifecycle';

export interface WindowsBootScriptOptions {
  /**
   * Wrap in `<powershell>…</powershell>` for EC2 user data. Azure custom data / the custom
   * script extension take the bare script.
   * @default true
   */
  readonly wrap?: boolean;
  /**
   * Bytes the script may take (without the wrapper): a longer one goes packed, a stub that
   * carries it gzip-compressed (see packPowerShell). @default - no limit, never packed
   */
  readonly maxBytes?: number;
}

/**
 * The Windows boot script (PowerShell 5.1). Every value from the spec or the context is
 * assigned once at the top through {@link psQuote} (single-quoted: `$`, backtick and `"` stay
 * literal); the steps only use those variables. Each step is idempotent. Throws a
 * ValidationError naming the field when spec or context cannot make a working script.
 */
export function renderWindowsBootScript(spec: ClusterSpec, ctx: BootContext, options: WindowsBootScriptOptions = {}): string {
  checkBootInput(spec, ctx, 'windows');
  const steps: string[] = [];
  // the app stops before the share is seeded from its files, and no app runs unguarded
  if (usesGuard(spec)) steps.push(APP_STOPPED_STEP);
  if (usesShare(spec)) steps.push(mapShareStep(spec, ctx), SEED_STEP, LINK_STEP);
  if (spec.profile.deleteOnClone.length > 0) steps.push(cloneStep(ctx));
  steps.push(...windowsAppSteps(spec, ctx));
  if (loopbackVip(spec, ctx) !== undefined) steps.push(VIP_STEP);
  const thinprint = thinprintScriptParts(spec, ctx.thinprint);
  if (thinprint) steps.push(thinprint.configureStep);
  steps.push(firewallStep(spec, !!thinprint && spec.profile.failoverMode === 'dns'));
  if (usesGuard(spec)) {
    steps.push(guardBinaryStep(ctx), GUARD_CONFIG_STEP, GUARD_SERVICE_STEP);
    if (ctx.replacementNotice) steps.push(windowsLifecycleStep(spec, ctx.replacementNotice));
    steps.push(windowsShutdownStep(spec));
  } else {
    steps.push(APP_SERVICE_STEP);
  }
  if (thinprint) steps.push(...thinprint.finalSteps);
  const helpers = [HELPERS, FIREWALL_HELPER];
  if (usesImds(spec, ctx)) helpers.push(IMDS_HELPER);
  if ((usesShare(spec) && smbSecretRef(spec, ctx) !== undefined) || thinprint?.readsSecret) helpers.push(SECRET_HELPER);
  if (usesShare(spec)) helpers.push(LINK_HELPER);
  if (thinprint) helpers.push(thinprint.helpers);
  const thinprintValues = thinprint ? `${thinprint.values.join('\n')}\n` : '';
  // the header and the values stay readable in user data; the rest goes packed when too long
  const head = compactPowerShell([header(spec), values(spec, ctx) + thinprintValues].join('\n'));
  const rest = compactPowerShell([helpers.join(''), START, 'try {', ...steps, FOOTER].join('\n'), false);
  const body = head + (options.maxBytes !== undefined && Buffer.byteLength(head + rest) > options.maxBytes ? packPowerShell(rest) : rest);
  // the domain join reboots the node and the script must run again then (EC2Launch: <persist>)
  const persist = usesShare(spec) && smbSecretRef(spec, ctx) === undefined ? '<persist>true</persist>\n' : '';
  return (options.wrap ?? true) ? `<powershell>\n${body}</powershell>\n${persist}` : body;
}

/**
 * The command that runs the custom data on an Azure Windows VM (Custom Script Extension).
 * Windows PowerShell 5.1 reads a .ps1 without a byte-order mark in the ANSI code page, so
 * non-ASCII values (a cluster or path name) would arrive garbled: the script is written as
 * UTF-8 with a BOM, run, and its exit code passed on.
 */
export function azureCustomDataCommand(scriptPath: string): string {
  const ps = psQuote(scriptPath);
  return `powershell.exe -NoProfile -ExecutionPolicy Bypass -Command "[IO.File]::WriteAllText(${ps}, [IO.File]::ReadAllText('C:\\AzureData\\CustomData.bin', [Text.Encoding]::UTF8), (New-Object Text.UTF8Encoding($true))); & ${ps}; exit $LASTEXITCODE"`;
}

const indent = (block: string): string =>
  block
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');

function header(spec: ClusterSpec): string {
  return `# failover-constructs boot script for cluster ${spec.name} (${oneLine(spec.profile.displayName)}), Windows.
# Generated from the cluster spec: do not edit. Every step is idempotent; a re-run changes nothing.
# Logs to ${WINDOWS.log} and the console; on failure exits 1 naming the failed step.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 3
# .NET Framework 4.x in Windows PowerShell 5.1 may offer TLS 1.0/1.1 only; the clouds' endpoints need 1.2
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
`;
}

function values(spec: ClusterSpec, ctx: BootContext): string {
  const p = spec.profile;
  const lines = [
    '# ---- values from the cluster spec and the cloud context (each one quoted) ----',
    `$ClusterName = ${psQuote(spec.name)}`,
    `$InstallDir = ${psQuote(p.installDir)}`,
    `$AppService = ${psQuote(p.serviceName)}`,
    `$DataDir = ${psQuote(WINDOWS.dataDir)}`,
    `$LogFile = ${psQuote(WINDOWS.log)}`,
  ];
  if (usesShare(spec)) {
    const share = ctx.share as Extract<BootContext['share'], { kind: 'smb' }>; // checked: SMB on Windows
    const unc = share.address.replace(/\//g, '\\');
    const secret = smbSecretRef(spec, ctx);
    // without credentials the machine's own identity (domain-joined FSx) reaches the UNC path
    const requested = ctx.windowsDrive ?? WINDOWS.defaultDrive;
    const drive = secret !== undefined && /^[A-Za-z]:$/.test(requested) ? requested.toUpperCase() : '';
    // Path.Combine needs 'S:\\' (plain 'S:' means the drive's current directory)
    const root = drive ? `${drive}\\` : secret === undefined ? unc : requested;
    lines.push(
      `$ShareUnc = ${psQuote(unc)}`,
      `$ShareDrive = ${psQuote(drive)}`,
      `$ShareRoot = ${psQuote(root)}`,
      `$ShareSecretRef = ${psQuote(secret ?? '')}`,
      `$SharedPaths = ${psArray(spec.sharedItems.map((i) => i.path.replace(/\//g, '\\')))}`,
      `$SharedTypes = ${psArray(spec.sharedItems.map((i) => i.type))}`,
      `$SeedLockName = ${psQuote(SHARE_FILES.lock)}`,
      `$SeededName = ${psQuote(SHARE_FILES.seeded)}`,
    );
  }
  if (p.deleteOnClone.length > 0) lines.push(`$DeleteOnClone = ${psArray(p.deleteOnClone.map((d) => d.replace(/\//g, '\\')))}`);
  const vip = loopbackVip(spec, ctx);
  if (vip !== undefined) lines.push(`$LoopbackVip = ${psQuote(vip)}`);
  if (usesGuard(spec)) {
    lines.push(
      `$GuardExe = ${psQuote(WINDOWS.guardBinary)}`,
      `$GuardConfig = ${psQuote(WINDOWS.guardConfig)}`,
      `$GuardService = ${psQuote(WINDOWS.guardService)}`,
      `$GuardSha256 = ${psQuote(ctx.guardBinary.sha256.toLowerCase())}`,
      `$GuardConfigText = ${psQuote(guardConfigText(spec, ctx))}`,
      `$ServiceHostExe = ${psQuote(WINDOWS.serviceHost)}`,
      `$GuardTempDir = ${psQuote(WINDOWS.guardTempDir)}`,
    );
  }
  const probes = healthProbeSources(ctx);
  const allowed = spec.loadBalancer.allowedCidrs;
  lines.push(
    `$AppTcpPorts = ${psArray(spec.ports.map((p) => String(p.port)))}`,
    // the security group / NSG scopes the app ports; the host firewall repeats the spec's CIDRs
    `$AppSources = ${psArray(allowed && probes[0] !== 'Any' ? [...allowed, ...probes] : allowed ?? ['Any'])}`,
  );
  if (usesGuard(spec)) lines.push(`$GuardPort = ${psQuote(String(spec.guard.port))}`, `$ProbeSources = ${psArray(probes)}`);
  if (usesImds(spec, ctx)) {
    lines.push(`$ManagedIdentityClientId = ${psQuote(managedIdentityClientId(ctx) ?? '')}`);
  }
  return lines.join('\n') + '\n';
}


/** Azure Load Balancer health probes come from this address (Azure's virtual public IP). */
export const AZURE_PROBE_SOURCE = '168.63.129.16';

/** Where the guard port's probes come from (see BootContext.healthProbeSources). */
export function healthProbeSources(ctx: BootContext): readonly string[] {
  if (ctx.healthProbeSources !== undefined && ctx.healthProbeSources.length > 0) return ctx.healthProbeSources;
  return ctx.guardBinary.kind === 'azure-blob' ? [AZURE_PROBE_SOURCE] : ['Any'];
}

/** Windows Firewall drops unsolicited inbound traffic: a rule per port set, created or brought in line. */
const FIREWALL_HELPER = `function Set-InboundRule([string]$Name, [string]$Protocol, [string[]]$Ports, [string[]]$Sources) {
  $rule = @{ Direction = 'Inbound'; Action = 'Allow'; Protocol = $Protocol; LocalPort = $Ports; RemoteAddress = $Sources; Profile = 'Any'; Enabled = 'True' }
  if (Get-NetFirewallRule -Name $Name -ErrorAction SilentlyContinue) { Set-NetFirewallRule -Name $Name @rule }
  else { New-NetFirewallRule -Name $Name -DisplayName $Name @rule | Out-Null; Write-Log "firewall: allowed $Protocol $($Ports -join ',') from $($Sources -join ',')" }
}
`;

/**
 * The host firewall: the guard's port from the load balancer's probe sources only, the app's
 * ports from the allowed sources; ThinPrint dns mode also its cluster channel (UDP multicast
 * among the nodes' network, port not documented by the vendor, so any UDP port from there).
 */
function firewallStep(spec: ClusterSpec, multicast: boolean): string {
  const lines = [`Invoke-Step 'open the firewall for the load balancer and the clients' {`];
  if (usesGuard(spec)) lines.push(`  Set-InboundRule 'failover-guard-health' 'TCP' @($GuardPort) $ProbeSources`);
  lines.push(`  Set-InboundRule ('failover-app-' + $ClusterName) 'TCP' $AppTcpPorts $AppSources`);
  if (multicast) lines.push(`  Set-InboundRule 'failover-thinprint-cluster' 'UDP' @('Any') @($TpNodeNetwork)`);
  lines.push('}', '');
  return lines.join('\n');
}

const HELPERS = `# ---- helpers ----
$script:Step = 'start'
New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
function Write-Log([string]$Message) {
  $line = '{0} failover-guard-boot: {1}' -f [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ'), $Message
  Write-Host $line
  Add-Content -LiteralPath $LogFile -Value $line
}
# Every cloud call goes through this: a new role assignment or instance-role policy answers 403
# for minutes, and the Azure extension runs once per VM. 60 tries, 10 s apart, as on Linux.
function Invoke-WithRetry([string]$What, [scriptblock]$Call) {
  for ($try = 1; ; $try++) {
    try { return (& $Call) }
    catch {
      if ($try -ge 60) { throw ('{0} failed {1} times; last error: {2}' -f $What, $try, $_.Exception.Message) }
      Write-Log ('{0} failed (try {1} of 60), again in 10 s: {2}' -f $What, $try, $_.Exception.Message)
      Start-Sleep -Seconds 10
    }
  }
}
function Invoke-Step([string]$Name, [scriptblock]$Body) {
  $script:Step = $Name
  Write-Log "step: $Name"
  & $Body
}
# Writes only when the content differs (UTF-8 without BOM).
function Set-FileContent([string]$Path, [string]$Text) {
  if ((Test-Path -LiteralPath $Path) -and ([System.IO.File]::ReadAllText($Path) -ceq $Text)) { return }
  [System.IO.File]::WriteAllText($Path, $Text, (New-Object System.Text.UTF8Encoding($false)))
  Write-Log "wrote $Path"
}
`;

const IMDS_HELPER = `# An access token for a resource from the Azure instance metadata service (managed identity).
function Get-ImdsToken([string]$Resource) {
  $uri = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=' + [Uri]::EscapeDataString($Resource)
  if ($ManagedIdentityClientId) { $uri += '&client_id=' + $ManagedIdentityClientId }
  (Invoke-WithRetry 'managed identity token' { Invoke-RestMethod -UseBasicParsing -Headers @{ Metadata = 'true' } -Uri $uri }).access_token
}
`;

const SECRET_HELPER = `# Reads a secret reference (the schemes lib/contracts/secret-reference.ts lets a boot script read) as text.
function Get-SecretText([string]$Ref) {
  $scheme, $target = $Ref -split ':', 2
  switch ($scheme) {
    'aws-secretsmanager' { return (Invoke-WithRetry 'secret read' { Get-SECSecretValue -SecretId $target -Region ($target -split ':')[3] }).SecretString }
    'azure-keyvault' {
      $token = Get-ImdsToken 'https://vault.azure.net'
      return (Invoke-WithRetry 'secret read' { Invoke-RestMethod -UseBasicParsing -Headers @{ Authorization = "Bearer $token" } -Uri ($target + '?api-version=7.4') }).value
    }
    'file' { return [System.IO.File]::ReadAllText($target) }
    default { throw "unsupported secret reference scheme '$scheme'" }
  }
}
# ConvertFrom-Json quotes the text it fails on into its error (and so into boot.log and the
# extension's output): a malformed secret gets a message without any of its text.
function ConvertFrom-SecretJson([string]$Text, [string]$What) {
  try { return (ConvertFrom-Json -InputObject $Text) }
  catch { throw "the secret $What is not valid JSON (its text is not shown)" }
}
`;

/**
 * How Windows PowerShell 5.1 spells a link's target (`.Target` shows the reparse point's
 * substitute name): a link to `\\fs\share\x` reads `UNC\fs\share\x`, NT-prefixed ones
 * `\??\C:\x`. Each prefix → its plain form; the first match wins.
 */
export const LINK_TARGET_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['\\??\\UNC\\', '\\\\'],
  ['\\\\?\\UNC\\', '\\\\'],
  ['UNC\\', '\\\\'],
  ['\\??\\', ''],
  ['\\\\?\\', ''],
];

/** The path as the boot script's ConvertTo-PlainPath returns it (the same table, in TypeScript). */
export function plainLinkPath(path: string): string {
  let p = path;
  for (const [prefix, plain] of LINK_TARGET_PREFIXES) {
    if (p.toLowerCase().startsWith(prefix.toLowerCase())) {
      p = plain + p.slice(prefix.length);
      break;
    }
  }
  return p.replace(/\\+$/, '');
}

/** The same link on both sides: plain forms, case-insensitive (as NTFS and SMB compare names). */
export const sameLinkTarget = (a: string, b: string): boolean => plainLinkPath(a).toLowerCase() === plainLinkPath(b).toLowerCase();

const LINK_HELPER = `# Plain string join: no PowerShell drive lookup, no wildcards.
function Join-Literal([string]$Base, [string]$Child) { [System.IO.Path]::Combine($Base, $Child) }
function Get-LinkTarget([string]$Path) {
  $item = Get-Item -LiteralPath $Path -Force -ErrorAction SilentlyContinue
  if ($null -eq $item -or $item.LinkType -ne 'SymbolicLink') { return $null }
  return @($item.Target)[0]
}
# 5.1 reads a link to \\\\fs\\share\\x as UNC\\fs\\share\\x: compare plain forms, or every boot relinks
$LinkTargetPrefixes = @(${LINK_TARGET_PREFIXES.map(([a, b]) => `@(${psQuote(a)}, ${psQuote(b)})`).join(', ')})
# The share's seed lock (held while a node copies its files there): an exclusive open is a lock
# every SMB client honours. Dispose the returned stream to release it.
function Enter-SeedLock {
  $lockPath = Join-Literal $ShareRoot $SeedLockName
  $deadline = [DateTime]::UtcNow.AddMinutes(30)
  for (;;) {
    try { return [System.IO.File]::Open($lockPath, 'OpenOrCreate', 'ReadWrite', 'None') }
    catch [System.IO.IOException] {
      if ([DateTime]::UtcNow -gt $deadline) { throw "could not lock $lockPath within 30 minutes" }
      Write-Log 'another node is seeding the share; waiting for its lock'
      Start-Sleep -Seconds 5
    }
  }
}
function ConvertTo-PlainPath([string]$Path) {
  foreach ($pair in $LinkTargetPrefixes) {
    if ($Path.StartsWith($pair[0], [System.StringComparison]::OrdinalIgnoreCase)) { $Path = $pair[1] + $Path.Substring($pair[0].Length); break }
  }
  return $Path.TrimEnd([char]'\\')
}
# mklink accepts a target that does not exist (yet); PowerShell 5.1's New-Item does not. The paths
# reach cmd through the environment, inside double quotes (no Windows path contains one), so no
# character of theirs is cmd syntax; /v:off keeps ! literal.
function New-SymbolicLink([string]$Link, [string]$Target, [bool]$Directory) {
  $env:FG_LINK = $Link
  $env:FG_LINK_TARGET = $Target
  # one argument each, none with a space: the command line is exactly cmd /d /v:off /c mklink [/D] "%FG_LINK%" "%FG_LINK_TARGET%"
  $mklink = @('/d', '/v:off', '/c', 'mklink') + @(if ($Directory) { '/D' }) + @('"%FG_LINK%"', '"%FG_LINK_TARGET%"')
  $out = & cmd.exe @mklink 2>&1
  $code = $LASTEXITCODE
  Remove-Item -Path @('Env:FG_LINK', 'Env:FG_LINK_TARGET')
  if ($code -ne 0) { throw "mklink $Link -> $Target failed (exit $code): $out" }
}
`;

const START = `Write-Log "boot script for cluster $ClusterName on $env:COMPUTERNAME"
`;

function mapShareStep(spec: ClusterSpec, ctx: BootContext): string {
  const mapping =
    smbSecretRef(spec, ctx) === undefined
      ? `# no credentials: the machine's own (domain) identity reaches $ShareUnc. The domain join
# (AWS: the SSM aws:domainJoin association) reboots the node, and the script runs again then.
# No join within 20 min is a failed run (exit 1, logged), never a silent wait.
if (-not (Get-CimInstance -ClassName Win32_ComputerSystem).PartOfDomain) {
  Write-Log "not joined to a domain yet: $ShareUnc needs the machine's domain identity; waiting for the join, which reboots the node"
  $joinBy = [DateTime]::UtcNow.AddMinutes(20)
  while (-not (Get-CimInstance -ClassName Win32_ComputerSystem).PartOfDomain) {
    if ([DateTime]::UtcNow -gt $joinBy) { throw "not joined to a domain after 20 min: check the SSM association AWS-JoinDirectoryServiceDomain and the nodes' egress to the domain controllers" }
    Start-Sleep -Seconds 15
  }
  Write-Log 'joined to the domain; the rest runs after the reboot the join makes'
  exit 0
}
`
      : `if (-not (Get-SmbGlobalMapping -RemotePath $ShareUnc -ErrorAction SilentlyContinue)) {
  # a global mapping is visible to services (LocalSystem), persists across reboots
  $secret = ConvertFrom-SecretJson (Get-SecretText $ShareSecretRef) 'with the share credentials'
  $password = ConvertTo-SecureString -String $secret.password -AsPlainText -Force
  $credential = New-Object System.Management.Automation.PSCredential($secret.username, $password)
  $mapping = @{ RemotePath = $ShareUnc; Credential = $credential; Persistent = $true }
  if ($ShareDrive) { $mapping.LocalPath = $ShareDrive }
  New-SmbGlobalMapping @mapping | Out-Null
  Remove-Variable -Name @('secret', 'password', 'credential')
  Write-Log "mapped $ShareUnc as $ShareRoot"
}
`;
  return `Invoke-Step 'map the share' {
${indent(mapping.trimEnd())}
  if (-not (Test-Path -LiteralPath $ShareRoot)) { throw "the share $ShareUnc is not reachable as $ShareRoot" }
  # local links to a remote target must be followed
  fsutil behavior set SymlinkEvaluation L2L:1 L2R:1 | Out-Null
}
`;
}

/**
 * Images with the app installed start it at boot: set it to Manual and stop it before the share
 * is seeded (no copy of live files) and before anything else runs unguarded. Not under a running
 * guard (a later boot): the guard owns the app then.
 */
const APP_STOPPED_STEP = `Invoke-Step 'keep the app stopped until the guard starts it' {
  $app = Get-Service -Name $AppService -ErrorAction SilentlyContinue
  if ($null -eq $app) { throw "service $AppService not found: is the app installed?" }
  $guard = Get-Service -Name $GuardService -ErrorAction SilentlyContinue
  if ($null -eq $guard -or $guard.Status -eq 'Stopped') {
    if ($app.StartType -ne 'Manual') { Set-Service -Name $AppService -StartupType Manual; Write-Log "set $AppService to Manual" }
    if ($app.Status -ne 'Stopped') { Stop-Service -Name $AppService -Force; Write-Log "stopped $AppService (the guard starts it)" }
  }
}
`;

/** Same rules as on Linux: first node under the lock seeds, the marker is written last. */
const SEED_STEP = `Invoke-Step 'seed the share' {
  $lock = Enter-SeedLock
  try {
    $marker = Join-Literal $ShareRoot $SeededName
    $seeding = -not (Test-Path -LiteralPath $marker)
    if ($seeding) { Write-Log "seeding the share from this node ($env:COMPUTERNAME)" } else { Write-Log 'share already seeded' }
    for ($i = 0; $i -lt $SharedPaths.Count; $i++) {
      $dst = Join-Literal $ShareRoot $SharedPaths[$i]
      $src = Join-Literal $InstallDir $SharedPaths[$i]
      if (Test-Path -LiteralPath $dst) { continue }
      # once linked, this node's original is the .bak
      if (Get-LinkTarget $src) { $src = "$src.bak" }
      [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($dst)) | Out-Null
      if (Test-Path -LiteralPath $src) {
        $partial = "$dst.fg-seeding"
        if (Test-Path -LiteralPath $partial) { Remove-Item -LiteralPath $partial -Recurse -Force }
        Copy-Item -LiteralPath $src -Destination $partial -Recurse -Force
        Rename-Item -LiteralPath $partial -NewName ([System.IO.Path]::GetFileName($dst))
        Write-Log "copied $($SharedPaths[$i]) to the share"
      } elseif ($SharedTypes[$i] -eq 'directory') {
        [System.IO.Directory]::CreateDirectory($dst) | Out-Null
        Write-Log "created directory $($SharedPaths[$i]) on the share (not found locally)"
      } else {
        Write-Log "warning: $($SharedPaths[$i]) not found locally; the app creates it on the share"
      }
    }
    if ($seeding) {
      Add-Content -LiteralPath $marker -Value ('{0} {1}' -f $env:COMPUTERNAME, [DateTime]::UtcNow.ToString('o'))
      Write-Log 'share seeded'
    }
  } finally {
    $lock.Dispose()
  }
}
`;

const LINK_STEP = `Invoke-Step 'link the shared items' {
  $pending = @(for ($i = 0; $i -lt $SharedPaths.Count; $i++) {
    if ((ConvertTo-PlainPath (Get-LinkTarget (Join-Literal $InstallDir $SharedPaths[$i]))) -ne (ConvertTo-PlainPath (Join-Literal $ShareRoot $SharedPaths[$i]))) { $i }
  })
  if ($pending.Count -gt 0) {
    # the app must not run while its files move
    Stop-Service -Name $AppService -ErrorAction SilentlyContinue
  }
  foreach ($i in $pending) {
    $local = Join-Literal $InstallDir $SharedPaths[$i]
    $target = Join-Literal $ShareRoot $SharedPaths[$i]
    if ($SharedTypes[$i] -eq 'directory' -and -not (Test-Path -LiteralPath $target -PathType Container)) { throw "$target on the share is not a directory" }
    $existing = Get-Item -LiteralPath $local -Force -ErrorAction SilentlyContinue
    if ($null -ne $existing -and $existing.LinkType -eq 'SymbolicLink') {
      $existing.Delete()
    } elseif ($null -ne $existing) {
      $bak = "$local.bak"
      $n = 1
      while (Test-Path -LiteralPath $bak) { $bak = "$local.bak.$n"; $n++ }
      Rename-Item -LiteralPath $local -NewName ([System.IO.Path]::GetFileName($bak))
      Write-Log "kept the original $($SharedPaths[$i]) as $([System.IO.Path]::GetFileName($bak))"
    }
    [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($local)) | Out-Null
    New-SymbolicLink $local $target ($SharedTypes[$i] -eq 'directory')
    Write-Log "linked $($SharedPaths[$i]) -> $target"
  }
}
`;

/**
 * Once per instance: the cloud's instance id (AWS) or VM id (Azure). Images captured without
 * sysprep share their MachineGuid, so it cannot tell a clone from its source.
 */
function cloneStep(ctx: BootContext): string {
  const instanceId =
    ctx.guardBinary.kind === 's3'
      ? `$imdsToken = Invoke-WithRetry 'instance metadata token' { Invoke-RestMethod -UseBasicParsing -Method Put -Uri 'http://169.254.169.254/latest/api/token' -Headers @{ 'X-aws-ec2-metadata-token-ttl-seconds' = '300' } }
  $instance = Invoke-WithRetry 'instance id' { Invoke-RestMethod -UseBasicParsing -Uri 'http://169.254.169.254/latest/meta-data/instance-id' -Headers @{ 'X-aws-ec2-metadata-token' = $imdsToken } }`
      : `$instance = Invoke-WithRetry 'VM id' { Invoke-RestMethod -UseBasicParsing -Headers @{ Metadata = 'true' } -Uri 'http://169.254.169.254/metadata/instance/compute/vmId?api-version=2021-02-01&format=text' }`;
  return `Invoke-Step 'give this clone its own identity' {
  ${instanceId}
  $instance = ([string]$instance).Trim()
  if (-not $instance) { throw 'the instance metadata service returned no instance id' }
  $markerPath = [System.IO.Path]::Combine($DataDir, 'clone-identity')
  $cleared = if (Test-Path -LiteralPath $markerPath) { [System.IO.File]::ReadAllText($markerPath).Trim() } else { '' }
  if ($cleared -ne $instance) {
    foreach ($rel in $DeleteOnClone) {
      $path = [System.IO.Path]::Combine($InstallDir, $rel)
      if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Recurse -Force; Write-Log "deleted $rel" }
    }
    Set-FileContent $markerPath $instance
  }
}
`;
}

/**
 * Floating IP / DSR on Windows: the VIP goes on a loopback adapter (weak host send/receive so
 * replies leave from the VIP). Windows cannot create that adapter from a script without
 * driver tools, so the image must carry the Microsoft KM-TEST Loopback Adapter.
 */
const VIP_STEP = `Invoke-Step 'put the load balancer VIP on the loopback adapter' {
  $loopback = Get-NetAdapter | Where-Object { $_.InterfaceDescription -like '*KM-TEST Loopback*' } | Select-Object -First 1
  if ($null -eq $loopback) { throw 'floating IP needs the Microsoft KM-TEST Loopback Adapter in the image' }
  if (-not (Get-NetIPAddress -InterfaceIndex $loopback.ifIndex -IPAddress $LoopbackVip -ErrorAction SilentlyContinue)) {
    New-NetIPAddress -InterfaceIndex $loopback.ifIndex -IPAddress $LoopbackVip -PrefixLength 32 -SkipAsSource $true | Out-Null
    Write-Log "added $LoopbackVip to $($loopback.Name)"
  }
  Set-NetIPInterface -InterfaceIndex $loopback.ifIndex -WeakHostReceive Enabled -WeakHostSend Enabled
  Get-NetAdapter -Physical | Where-Object Status -eq 'Up' | ForEach-Object { Set-NetIPInterface -InterfaceIndex $_.ifIndex -WeakHostReceive Enabled }
}
`;

function guardBinaryStep(ctx: BootContext): string {
  const bin = ctx.guardBinary;
  const download =
    bin.kind === 's3'
      ? `# AWS Tools for PowerShell sign with the instance role (credentials through IMDSv2)
Invoke-WithRetry 'guard download' { Read-S3Object -BucketName ${psQuote(bin.bucket)} -Key ${psQuote(bin.key)} -Region ${psQuote(bin.region)} -File $download | Out-Null }`
      : `$token = Get-ImdsToken 'https://storage.azure.com/'
Invoke-WithRetry 'guard download' { Invoke-WebRequest -UseBasicParsing -Uri ${psQuote(bin.url)} -Headers @{ 'x-ms-version' = '2020-10-02'; Authorization = "Bearer $token" } -OutFile $download }
Remove-Variable token`;
  return `Invoke-Step 'install the guard binary' {
  $installed = (Test-Path -LiteralPath $GuardExe) -and ((Get-FileHash -Algorithm SHA256 -LiteralPath $GuardExe).Hash.ToLowerInvariant() -eq $GuardSha256)
  if ($installed) {
    Write-Log "guard binary already installed ($GuardExe)"
  } else {
    [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($GuardExe)) | Out-Null
    $download = "$GuardExe.download"
${indent(indent(download))}
    if ((Get-FileHash -Algorithm SHA256 -LiteralPath $download).Hash.ToLowerInvariant() -ne $GuardSha256) {
      Remove-Item -LiteralPath $download -Force
      throw 'the downloaded guard binary does not match its SHA-256'
    }
    # a new binary replaces a running one only when the guard (and the app depending on it) stops
    Stop-Service -Name $GuardService -Force -ErrorAction SilentlyContinue
    Move-Item -LiteralPath $download -Destination $GuardExe -Force
    Write-Log "installed $GuardExe"
  }
}
`;
}

/** Config readable by SYSTEM and Administrators only (the Windows equivalent of root 0600). */
const GUARD_CONFIG_STEP = `Invoke-Step 'write the guard config' {
  icacls $DataDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' | Out-Null
  if ($LASTEXITCODE -ne 0) { throw "icacls failed on $DataDir" }
  Set-FileContent $GuardConfig $GuardConfigText
}
`;

/**
 * The guard runs under its service host (WinSW, see lib/guard/platform/windows/windows-service-host.ts), which answers the
 * Service Control Manager; the guard binary alone cannot (a service registered directly on it
 * fails to start with error 1053), so such a registration from an older boot script is replaced.
 * The app no longer depends on the guard service: with the dependency the SCM refuses to stop
 * the guard, or stops the app before the guard could drain. The guard stops the app itself, and
 * a watch process stops it when the guard dies.
 */
const GUARD_SERVICE_STEP = `Invoke-Step 'install the guard service' {
  [System.IO.Directory]::CreateDirectory($GuardTempDir) | Out-Null
  # WinSW is embedded in the guard binary (covered by its SHA-256); the guard writes it and its
  # XML (stop timeout from the config) next to it, only what differs
  & $GuardExe --config $GuardConfig service-host --out $ServiceHostExe
  if ($LASTEXITCODE -ne 0) { throw "failover-guard service-host failed (exit $LASTEXITCODE)" }
  $registered = Get-CimInstance -ClassName Win32_Service -Filter ("Name='{0}'" -f $GuardService)
  if ($null -ne $registered -and $registered.PathName -notlike ('*' + [System.IO.Path]::GetFileName($ServiceHostExe) + '*')) {
    Stop-Service -Name $GuardService -Force -ErrorAction SilentlyContinue
    sc.exe delete $GuardService | Out-Null
    for ($n = 0; $n -lt 60 -and (Get-Service -Name $GuardService -ErrorAction SilentlyContinue); $n++) { Start-Sleep -Seconds 1 }
    $registered = $null
    Write-Log "removed the old $GuardService registration (no service host)"
  }
  if ($null -eq $registered) {
    & $ServiceHostExe install
    if ($LASTEXITCODE -ne 0) { throw "$ServiceHostExe install failed (exit $LASTEXITCODE)" }
    Write-Log "registered $GuardService under its service host"
  }
  # a non-zero exit counts as a failure too, so the recovery restarts the guard
  sc.exe failureflag $GuardService 1 | Out-Null
  $app = Get-Service -Name $AppService
  $depends = @($app.ServicesDependedOn | ForEach-Object { $_.Name })
  if ($depends -contains $GuardService) {
    $rest = @($depends | Where-Object { $_ -ne $GuardService })
    $list = if ($rest.Count -gt 0) { $rest -join '/' } else { '/' }
    sc.exe config $AppService depend= $list | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "could not remove $GuardService from the dependencies of $AppService" }
  }
  # the guard starts the app on the active node
  Set-Service -Name $AppService -StartupType Manual
  Start-Service -Name $GuardService
}
`;

/** `dns` clusters (ThinPrint): every node runs the app. */
const APP_SERVICE_STEP = `Invoke-Step 'start the app service' {
  Set-Service -Name $AppService -StartupType Automatic
  Start-Service -Name $AppService
}
`;

const FOOTER = `  $script:Step = 'done'
  Write-Log 'boot script finished'
} catch {
  Write-Log ("FAILED in step '{0}': {1}" -f $script:Step, $_.Exception.Message)
  exit 1
}
`;

/**
 * The boot script of a `dns` node (ThinPrint dns-multicast): no share, no guard, no database,
 * so the context carries only the ThinPrint settings; checkBootInput reads the other fields
 * for guard profiles and shared items only.
 */
export function renderWindowsDnsNodeScript(spec: ClusterSpec, thinprint: ThinPrintNodeSettings | undefined, options: WindowsBootScriptOptions = {}): string {
  const unused = { kind: 's3', bucket: '', key: '', region: '', sha256: '' } as const;
  return renderWindowsBootScript(spec, { share: NO_SHARE, guardBinary: unused, database: { url: '', passwordSource: '' }, thinprint }, options);
}
