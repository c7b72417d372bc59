import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { THINPRINT_SERVER_PORT } from '../spec/thinprint';
import { isUnresolved } from '../contracts/tokens';
import { secretReferenceProblem } from '../contracts/secret-reference';
import { psQuote } from './quote';

/**
 * What the ThinPrint node configuration needs beyond the spec; only the cloud construct knows
 * it (where the client keys live, which subnets the nodes are in).
 */
export interface ThinPrintNodeSettings {
  /**
   * Secret holding the client IDs and authentication keys, as JSON
   * `{"clients":[{"id":"66","key":"666"}]}`: `aws-secretsmanager:<arn>`,
   * `azure-keyvault:<secret-url>` or `file:<absolute path>` (on the image). Applied on every node with `tpconnect -add id:key`, because
   * no channel syncs them between nodes in the clouds. @default - none (no client is added)
   */
  readonly clientKeysSecretRef?: string;
  /**
   * `dns-multicast` only: the IPv4 CIDRs of the subnets the nodes are in, as literals. The
   * smallest network holding them all gives `MCastNodeIfBits`; the node's own address inside
   * it gives `MCastNodeInterface`.
   */
  readonly nodeSubnetCidrs?: readonly string[];
}

/** The registry key of the guide ("hkey_local_machine\software\thinprint\tpconnect"). */
export const TPCONNECT_KEY = 'HKLM:\\SOFTWARE\\ThinPrint\\TPConnect';
/**
 * Registry value of the TCP port engines (servers) connect to. The vendor documents only its
 * configuration console for this (4000 → 4002), no value name and no command line, so the value
 * is written and then proven in every mode: the dns-mode script waits for a listener on 4002,
 * and a guarded node's readiness is a connect to 4002 (never ready, never serving, otherwise).
 */
export const TPCONNECT_SERVER_PORT_VALUE = 'ServerPort';
/** IGMPVersion 3 means IGMPv2, the only version a Transit Gateway multicast domain speaks. */
export const TCPIP_PARAMETERS_KEY = 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters';

/** The smallest IPv4 network holding every given network: what `MCastNodeIfBits` describes. */
export interface CoveringNetwork {
  /** Dotted network address, e.g. `10.0.0.0`. */
  readonly network: string;
  /** Its prefix length, e.g. 22. */
  readonly prefixLength: number;
  /** 32 − prefixLength: the guide's "number of least significant bits". */
  readonly hostBits: number;
  /** First and last address as unsigned 32-bit numbers (what the boot script compares). */
  readonly first: number;
  readonly last: number;
}

const CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;

const toNumber = (address: string): number => address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const toAddress = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
/** The network part of `n` under a prefix of `bits` (plain arithmetic: JS bit operators are signed 32-bit). */
const networkOf = (n: number, bits: number): number => n - (n % 2 ** (32 - bits));

/**
 * The smallest network holding all the CIDRs (each one's network address counts, host bits
 * dropped). Throws on anything but IPv4 CIDR literals; check first with
 * {@link thinprintSettingsProblems}.
 */
export function coveringNetwork(cidrs: readonly string[]): CoveringNetwork {
  if (cidrs.length === 0) throw new Error('coveringNetwork: no CIDR given');
  const nets = cidrs.map((cidr) => {
    if (!CIDR.test(cidr)) throw new Error(`coveringNetwork: "${cidr}" is not an IPv4 CIDR`);
    const [address, bits] = cidr.split('/');
    return { base: networkOf(toNumber(address), Number(bits)), bits: Number(bits) };
  });
  let prefix = Math.min(...nets.map((n) => n.bits));
  while (prefix > 0 && new Set(nets.map((n) => networkOf(n.base, prefix))).size > 1) prefix--;
  const first = networkOf(nets[0].base, prefix);
  return { network: toAddress(first), prefixLength: prefix, hostBits: 32 - prefix, first, last: first + 2 ** (32 - prefix) - 1 };
}

/** Everything wrong with the ThinPrint settings for this spec, each naming its field. */
export function thinprintSettingsProblems(spec: ClusterSpec, settings: ThinPrintNodeSettings | undefined): Problem[] {
  if (spec.profile.app !== 'thinprint') {
    return settings === undefined ? [] : [{ path: 'thinprint', message: 'only for the ThinPrint profile' }];
  }
  const problems: Problem[] = [];
  const multicast = spec.profile.failoverMode === 'dns';
  const cidrs = settings?.nodeSubnetCidrs;
  if (multicast && (cidrs === undefined || cidrs.length === 0)) {
    problems.push({ path: 'thinprint.nodeSubnetCidrs', message: 'is required for clusterMode "dns-multicast" (MCastNodeIfBits comes from the nodes\' subnets)' });
  }
  if (!multicast && cidrs !== undefined) {
    problems.push({ path: 'thinprint.nodeSubnetCidrs', message: 'only for clusterMode "dns-multicast"; a single-active node has no cluster channel' });
  }
  (cidrs ?? []).forEach((cidr, i) => {
    if (isUnresolved(cidr)) problems.push({ path: `thinprint.nodeSubnetCidrs[${i}]`, message: 'must be a literal CIDR (the multicast subnet bits are computed at synth), not a reference' });
    else if (!CIDR.test(cidr)) problems.push({ path: `thinprint.nodeSubnetCidrs[${i}]`, message: `"${cidr}" is not an IPv4 CIDR` });
  });
  const ref = settings?.clientKeysSecretRef;
  const refProblem = ref === undefined ? undefined : secretReferenceProblem(ref, 'thinprint-client-keys');
  if (refProblem !== undefined) problems.push({ path: 'thinprint.clientKeysSecretRef', message: refProblem });
  return problems;
}

/** The ThinPrint part of a Windows boot script: its values, helpers and steps. */
export interface ThinPrintScriptParts {
  /** `$Name = 'value'` lines, every value through psQuote. */
  readonly values: readonly string[];
  readonly helpers: string;
  /** The step reads a secret: the script needs Get-SecretText. */
  readonly readsSecret: boolean;
}

/** The ThinPrint values and helpers of a Windows boot script; undefined for other apps. */
export function thinprintScriptParts(spec: ClusterSpec, settings: ThinPrintNodeSettings = {}): ThinPrintScriptParts | undefined {
  if (spec.profile.app !== 'thinprint') return undefined;
  const multicast = spec.profile.failoverMode === 'dns';
  const values = [
    `$TpRegistryKey = ${psQuote(TPCONNECT_KEY)}`,
    `$TpServerPortValue = ${psQuote(TPCONNECT_SERVER_PORT_VALUE)}`,
    `$TpServerPort = [int]${psQuote(String(THINPRINT_SERVER_PORT))}`,
    `$TpConnectExe = ${psQuote(`${spec.profile.installDir.replace(/\\+$/, '')}\\tpconnect.exe`)}`,
    `$TpClientKeysSecretRef = ${psQuote(settings.clientKeysSecretRef ?? '')}`,
  ];
  if (multicast) {
    const net = coveringNetwork(settings.nodeSubnetCidrs ?? []);
    values.push(
      `$TpNodeNetwork = ${psQuote(`${net.network}/${net.prefixLength}`)}`,
      `$TpNodeNetworkFirst = [uint32]${psQuote(String(net.first))}`,
      `$TpNodeNetworkLast = [uint32]${psQuote(String(net.last))}`,
      `$TpMCastNodeIfBits = [int]${psQuote(String(net.hostBits))}`,
      `$TcpipParametersKey = ${psQuote(TCPIP_PARAMETERS_KEY)}`,
    );
  }
  return {
    values,
    helpers: THINPRINT_HELPERS,
    readsSecret: settings.clientKeysSecretRef !== undefined,
  };
}

const THINPRINT_HELPERS = `# Writes a registry value only when it differs; true when it wrote.
function Set-RegistryValue([string]$Key, [string]$Name, [string]$Kind, $Value) {
  if (-not (Test-Path -LiteralPath $Key)) { New-Item -Path $Key -Force | Out-Null }
  $current = Get-ItemProperty -LiteralPath $Key -Name $Name -ErrorAction SilentlyContinue
  if ($null -ne $current -and [string]$current.$Name -ceq [string]$Value) { return $false }
  New-ItemProperty -LiteralPath $Key -Name $Name -PropertyType $Kind -Value $Value -Force | Out-Null
  Write-Log "set $Name = $Value in $Key"
  return $true
}
# An IPv4 address as an unsigned 32-bit number (network byte order).
function ConvertTo-IPv4Number([string]$Address) {
  $bytes = ([System.Net.IPAddress]::Parse($Address)).GetAddressBytes()
  [array]::Reverse($bytes)
  return [System.BitConverter]::ToUInt32($bytes, 0)
}
`;

/**
 * The guide's node configuration, idempotent: `MCastNodeInterface` / `MCastNodeIfBits`
 * (dns-multicast only), the server port 4002, the client IDs and keys from the secret; the
 * service restarts only when a value changed and it was running. Runs before the app (or guard)
 * service step.
 */
export function thinprintConfigureStep(spec: ClusterSpec): string {
  const multicast = spec.profile.failoverMode === 'dns';
  const multicastPart = multicast
    ? `  # the guide: MCastNodeInterface = this node's address, MCastNodeIfBits = host bits of the
  # smallest network holding every node ($TpNodeNetwork, computed from the nodes' subnets)
  $own = @(Get-NetIPAddress -AddressFamily IPv4 | Where-Object {
    $n = ConvertTo-IPv4Number $_.IPAddress
    $n -ge $TpNodeNetworkFirst -and $n -le $TpNodeNetworkLast
  })
  if ($own.Count -ne 1) { throw "expected exactly one IPv4 address of this node in $TpNodeNetwork, found $($own.Count)" }
  if (Set-RegistryValue $TpRegistryKey 'MCastNodeInterface' 'String' $own[0].IPAddress) { $changed = $true }
  if (Set-RegistryValue $TpRegistryKey 'MCastNodeIfBits' 'DWord' $TpMCastNodeIfBits) { $changed = $true }
  # a Transit Gateway multicast domain answers IGMPv2 only (3 = IGMPv2)
  if (Set-RegistryValue $TcpipParametersKey 'IGMPVersion' 'DWord' 3) { $script:RebootForIgmp = $true }
`
    : '';
  return `Invoke-Step 'configure the ThinPrint Connection Service node' {
  $changed = $false
${multicast ? '  $script:RebootForIgmp = $false\n' : ''}${multicastPart}  # engines (servers) connect on 4002 instead of 4000
  if (Set-RegistryValue $TpRegistryKey $TpServerPortValue 'DWord' $TpServerPort) { $changed = $true }
  if ($TpClientKeysSecretRef) {
    # no channel syncs client IDs between nodes here: every node adds them itself
    $parsed = ConvertFrom-SecretJson (Get-SecretText $TpClientKeysSecretRef) 'with the client keys'
    $pairs = @(foreach ($client in @($parsed.clients)) {
      $id = [string]$client.id
      $key = [string]$client.key
      if ($id -notmatch '^[A-Za-z0-9._-]{1,64}$') { throw 'the client-keys secret has a client without a valid id (letters, digits, . _ -)' }
      if ($key -notmatch '^[A-Za-z0-9._-]{1,128}$') { throw "the client-keys secret has no valid key for client $id" }
      '{0}:{1}' -f $id, $key
    })
    # only a digest of what was applied is kept, never the keys
    $sha = [System.Security.Cryptography.SHA256]::Create()
    $digest = [System.BitConverter]::ToString($sha.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($pairs -join "\`n"))).Replace('-', '')
    $digestPath = [System.IO.Path]::Combine($DataDir, 'thinprint-clients.sha256')
    $applied = if (Test-Path -LiteralPath $digestPath) { [System.IO.File]::ReadAllText($digestPath).Trim() } else { '' }
    if ($applied -ne $digest) {
      if (-not (Test-Path -LiteralPath $TpConnectExe)) { throw "$TpConnectExe not found: is the Connection Service installed?" }
      foreach ($pair in $pairs) {
        & $TpConnectExe -add $pair | Out-Null
        if ($LASTEXITCODE -ne 0) { throw ('tpconnect -add failed for client {0} (exit {1})' -f ($pair -split ':')[0], $LASTEXITCODE) }
      }
      Set-FileContent $digestPath $digest
      Write-Log "applied $($pairs.Count) client ID(s) from the secret"
    }
    Remove-Variable -Name @('parsed', 'pairs', 'client', 'key') -ErrorAction SilentlyContinue
  }
  # a restart of a running service applies the new values (on a guarded node: a planned handover)
  if ($changed -and (Get-Service -Name $AppService).Status -eq 'Running') {
    Restart-Service -Name $AppService -Force
    Write-Log "restarted $AppService"
  }
}
`;
}

/** dns mode, after the app service started: a wrong port value name would leave engines knocking on 4002 in vain, so the boot fails instead. */
export const THINPRINT_PORT_CHECK_STEP = `Invoke-Step 'check the server port' {
  $deadline = [DateTime]::UtcNow.AddSeconds(120)
  while (-not (Get-NetTCPConnection -State Listen -LocalPort $TpServerPort -ErrorAction SilentlyContinue)) {
    if ([DateTime]::UtcNow -gt $deadline) { throw "$AppService does not listen on port $TpServerPort" }
    Start-Sleep -Seconds 5
  }
}
`;

/** The IGMP version is read when the TCP/IP stack starts. */
export const THINPRINT_IGMP_REBOOT_STEP = `Invoke-Step 'reboot once for IGMPv2' {
  if ($script:RebootForIgmp) {
    Write-Log 'IGMPv2 takes effect after a restart; restarting in 60 s'
    shutdown.exe /r /t 60 /c 'failover-constructs: IGMPv2 for the multicast domain' | Out-Null
  }
}
`;
