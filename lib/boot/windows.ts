import { compactPowerShell, packPowerShell } from './powershell-compact';
import type { ClusterSpec } from '../spec/cluster-spec';
import type { BootContext } from './context';
import { SHARE_FILES, WINDOWS, checkBootInput, guardConfigText, loopbackVip, oneLine, shareOf, smbSecretRef, usesGuard, usesImds, usesShare, managedIdentityClientId } from './plan';
import { psArray, psQuote } from './quote';
import { stepsFor } from './steps';
import { thinprintScriptParts } from './thinprint-windows';

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
  const steps = stepsFor('windows', spec, ctx).map((step) => step.render(spec, ctx));
  const thinprint = thinprintScriptParts(spec, ctx.thinprint);
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
    const share = shareOf(ctx);
    if (share.kind !== 'smb') throw new Error('Windows nodes mount SMB shares (checkBootInput checks it)');
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
  if (ctx.mode === 'guard') {
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


/** Where the guard port's probes come from (see BootContext.healthProbeSources). */
export function healthProbeSources(ctx: BootContext): readonly string[] {
  if (ctx.healthProbeSources !== undefined && ctx.healthProbeSources.length > 0) return ctx.healthProbeSources;
  return ctx.platform.defaultHealthProbeSources;
}

/** Windows Firewall drops unsolicited inbound traffic: a rule per port set, created or brought in line. */
const FIREWALL_HELPER = `function Set-InboundRule([string]$Name, [string]$Protocol, [string[]]$Ports, [string[]]$Sources) {
  $rule = @{ Direction = 'Inbound'; Action = 'Allow'; Protocol = $Protocol; LocalPort = $Ports; RemoteAddress = $Sources; Profile = 'Any'; Enabled = 'True' }
  if (Get-NetFirewallRule -Name $Name -ErrorAction SilentlyContinue) { Set-NetFirewallRule -Name $Name @rule }
  else { New-NetFirewallRule -Name $Name -DisplayName $Name @rule | Out-Null; Write-Log "firewall: allowed $Protocol $($Ports -join ',') from $($Sources -join ',')" }
}
`;

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


const FOOTER = `  $script:Step = 'done'
  Write-Log 'boot script finished'
} catch {
  Write-Log ("FAILED in step '{0}': {1}" -f $script:Step, $_.Exception.Message)
  exit 1
}
`;
