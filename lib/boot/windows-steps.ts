import type { ClusterSpec } from '../spec/cluster-spec';
import type { BootContext } from './context';
import { guardNode, smbSecretRef, usesGuard } from './plan';

/** Indents a block by two spaces (a step body inside `Invoke-Step`). */
export const indent = (block: string): string =>
  block
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');

/**
 * The host firewall: the guard's port from the load balancer's probe sources only, the app's
 * ports from the allowed sources; ThinPrint dns mode also its cluster channel (UDP multicast
 * among the nodes' network, port not documented by the vendor, so any UDP port from there).
 */
export function firewallStep(spec: ClusterSpec, multicast: boolean): string {
  const lines = [`Invoke-Step 'open the firewall for the load balancer and the clients' {`];
  if (usesGuard(spec)) lines.push(`  Set-InboundRule 'failover-guard-health' 'TCP' @($GuardPort) $ProbeSources`);
  lines.push(`  Set-InboundRule ('failover-app-' + $ClusterName) 'TCP' $AppTcpPorts $AppSources`);
  if (multicast) lines.push(`  Set-InboundRule 'failover-thinprint-cluster' 'UDP' @('Any') @($TpNodeNetwork)`);
  lines.push('}', '');
  return lines.join('\n');
}

export function mapShareStep(spec: ClusterSpec, ctx: BootContext): string {
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
export const APP_STOPPED_STEP = `Invoke-Step 'keep the app stopped until the guard starts it' {
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
export const SEED_STEP = `Invoke-Step 'seed the share' {
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

export const LINK_STEP = `Invoke-Step 'link the shared items' {
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
 * Once per instance: the cloud's instance id (the platform's windowsInstanceId). Images captured
 * without sysprep share their MachineGuid, so it cannot tell a clone from its source.
 */
export function cloneStep(ctx: BootContext): string {
  const instanceId = ctx.platform.windowsInstanceId;
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
export const VIP_STEP = `Invoke-Step 'put the load balancer VIP on the loopback adapter' {
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

export function guardBinaryStep(ctx: BootContext): string {
  const download = guardNode(ctx).guardBinary.windows();
  return `Invoke-Step 'install the guard binary' {
  $installed = (Test-Path -LiteralPath $GuardExe) -and ((Get-FileHash -Algorithm SHA256 -LiteralPath $GuardExe).Hash.ToLowerInvariant() -eq $GuardSha256)
  if ($installed) {
    Write-Log "guard binary already installed ($GuardExe)"
  } else {
    [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($GuardExe)) | Out-Null
    $download = "$GuardExe.download.gz"
    $unpacked = "$GuardExe.download"
${indent(indent(download))}
    # the cluster uploads the binary gzip-compressed (.NET's GZipStream, in Windows PowerShell 5.1); its SHA-256 is the binary's own
    $packed = [System.IO.File]::OpenRead($download)
    try {
      $gzip = New-Object System.IO.Compression.GZipStream($packed, [System.IO.Compression.CompressionMode]::Decompress)
      $out = [System.IO.File]::Create($unpacked)
      try { $gzip.CopyTo($out) } finally { $out.Dispose(); $gzip.Dispose() }
    } finally { $packed.Dispose() }
    Remove-Item -LiteralPath $download -Force
    if ((Get-FileHash -Algorithm SHA256 -LiteralPath $unpacked).Hash.ToLowerInvariant() -ne $GuardSha256) {
      Remove-Item -LiteralPath $unpacked -Force
      throw 'the downloaded guard binary does not match its SHA-256'
    }
    # a new binary replaces a running one only when the guard (and the app depending on it) stops
    Stop-Service -Name $GuardService -Force -ErrorAction SilentlyContinue
    Move-Item -LiteralPath $unpacked -Destination $GuardExe -Force
    Write-Log "installed $GuardExe"
  }
}
`;
}

/** Config readable by SYSTEM and Administrators only (the Windows equivalent of root 0600). */
export const GUARD_CONFIG_STEP = `Invoke-Step 'write the guard config' {
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
export const GUARD_SERVICE_STEP = `Invoke-Step 'install the guard service' {
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
export const APP_SERVICE_STEP = `Invoke-Step 'start the app service' {
  Set-Service -Name $AppService -StartupType Automatic
  Start-Service -Name $AppService
}
`;
