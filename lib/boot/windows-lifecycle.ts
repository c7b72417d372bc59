import type { ClusterSpec } from '../spec/cluster-spec';
import { GUARD_HEALTH_PATH } from '../contracts/guard-endpoints';
import type { ReplacementWatch } from './platform';
import { PASSIVE_LEAVE_SECS } from '../contracts/timing';
import { WINDOWS } from './plan';
import { psQuote } from './quote';

/** Where the boot script writes the watcher, and the scheduled task that runs it as SYSTEM. */
export const WINDOWS_LIFECYCLE = {
  script: `${WINDOWS.dataDir}\\lifecycle-watcher.ps1`,
  log: `${WINDOWS.dataDir}\\lifecycle.log`,
  task: 'failover-guard-lifecycle',
} as const;

/**
 * The watcher script (Windows PowerShell 5.1), as on Linux: it waits for the cloud's notice
 * that this node goes (the platform's ReplacementWatch); then an active guard steps down (after the
 * passive nodes of the same batch had time to leave), the guard service stops (drain, stop the
 * app, release the lease), and the hook is completed / the event approved.
 */
export function windowsLifecycleWatcher(spec: ClusterSpec, replacement: ReplacementWatch): string {
  return `# failover-guard lifecycle watcher for cluster ${spec.name}; written by the boot script.
$ErrorActionPreference = 'Stop'
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
$GuardExe = ${psQuote(WINDOWS.guardBinary)}
$GuardConfig = ${psQuote(WINDOWS.guardConfig)}
$GuardService = ${psQuote(WINDOWS.guardService)}
$HealthUrl = ${psQuote(`http://127.0.0.1:${spec.guard.port}${GUARD_HEALTH_PATH}`)}
$PassiveLeaveSecs = ${PASSIVE_LEAVE_SECS}
$LogFile = ${psQuote(WINDOWS_LIFECYCLE.log)}
function Write-Log([string]$Message) {
  Add-Content -LiteralPath $LogFile -Value ('{0} failover-guard-lifecycle: {1}' -f [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ'), $Message)
}
${replacement.windows()}$notice = Wait-ForNotice
Write-Log "this node is being replaced or restarted ($notice)"
$active = $false
try { $active = (Invoke-WebRequest -UseBasicParsing -Uri $HealthUrl -TimeoutSec 5).StatusCode -eq 200 } catch { }
if ($active) {
  # passive nodes replaced in the same batch leave first, so the lease goes to a new node
  Start-Sleep -Seconds $PassiveLeaveSecs
  Write-Log 'this node is active: stepping down'
  & $GuardExe step-down --config $GuardConfig
  if ($LASTEXITCODE -ne 0) { Write-Log 'step-down failed; stopping the guard releases the lease as well' }
}
# a graceful stop (the service host's Ctrl+C) drains /health, stops the app and releases the lease
Stop-Service -Name $GuardService
Write-Log 'guard stopped'
Complete-Notice
Write-Log 'handed over: the node may go'
`;
}

/** The boot step that writes the watcher and runs it as a SYSTEM task at every start. */
export function windowsLifecycleStep(spec: ClusterSpec, replacement: ReplacementWatch): string {
  return `Invoke-Step 'install the lifecycle watcher' {
  $watcherPath = ${psQuote(WINDOWS_LIFECYCLE.script)}
  $watcherTask = ${psQuote(WINDOWS_LIFECYCLE.task)}
  Set-FileContent $watcherPath ${psQuote(windowsLifecycleWatcher(spec, replacement))}
  $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument ('-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{0}"' -f $watcherPath)
  $settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
  Register-ScheduledTask -TaskName $watcherTask -Action $action -Trigger (New-ScheduledTaskTrigger -AtStartup) -Settings $settings -User 'SYSTEM' -RunLevel Highest -Force | Out-Null
  if ((Get-ScheduledTask -TaskName $watcherTask).State -ne 'Running') { Start-ScheduledTask -TaskName $watcherTask }
}
`;
}

/** The computer shutdown script (local Group Policy) that hands over before the SCM stops services. */
export const WINDOWS_SHUTDOWN_SCRIPT = 'failover-guard-handover.ps1';
/** The Group Policy Scripts client-side extension and its tool, as gpt.ini lists them (MS-GPSCR). */
export const GP_SCRIPTS_EXTENSION = '[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]';

/**
 * What runs at OS shutdown before the services stop (a computer shutdown script): an active
 * guard steps down, then the guard service stops (drain, app, lease) — the same handover as the
 * lifecycle watcher's, with Windows' script wait as its budget instead of the services' 20 s.
 */
export function windowsShutdownHandover(spec: ClusterSpec): string {
  return `# failover-guard: hand over before Windows stops services; written by the boot script.
$GuardExe = ${psQuote(WINDOWS.guardBinary)}
$GuardConfig = ${psQuote(WINDOWS.guardConfig)}
$GuardService = ${psQuote(WINDOWS.guardService)}
$HealthUrl = ${psQuote(`http://127.0.0.1:${spec.guard.port}${GUARD_HEALTH_PATH}`)}
$LogFile = ${psQuote(WINDOWS_LIFECYCLE.log)}
function Write-Log([string]$Message) {
  Add-Content -LiteralPath $LogFile -Value ('{0} failover-guard-shutdown: {1}' -f [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ'), $Message)
}
$guard = Get-Service -Name $GuardService -ErrorAction SilentlyContinue
if ($null -eq $guard -or $guard.Status -ne 'Running') { exit 0 }
$active = $false
try { $active = (Invoke-WebRequest -UseBasicParsing -Uri $HealthUrl -TimeoutSec 5).StatusCode -eq 200 } catch { }
if ($active) {
  Write-Log 'Windows is shutting down and this node is active: stepping down'
  & $GuardExe step-down --config $GuardConfig
  if ($LASTEXITCODE -ne 0) { Write-Log 'step-down failed; stopping the guard releases the lease as well' }
}
Stop-Service -Name $GuardService
Write-Log 'guard stopped before the services'
`;
}

/**
 * The boot step that installs {@link windowsShutdownHandover} as a computer shutdown script of
 * the local Group Policy: the script under Machine\Scripts\Shutdown, an entry in psscripts.ini
 * (UTF-16LE with a BOM, MS-GPSCR 2.2.3; other entries kept), the Scripts extension in gpt.ini
 * (the list kept sorted) with the machine version raised (MS-GPOL 3.3.5.4), then gpupdate.
 */
export function windowsShutdownStep(spec: ClusterSpec): string {
  return `Invoke-Step 'hand over at OS shutdown (computer shutdown script)' {
  $gp = [System.IO.Path]::Combine($env:SystemRoot, 'System32\\GroupPolicy')
  $scripts = [System.IO.Path]::Combine($gp, 'Machine\\Scripts')
  $name = ${psQuote(WINDOWS_SHUTDOWN_SCRIPT)}
  [System.IO.Directory]::CreateDirectory([System.IO.Path]::Combine($scripts, 'Shutdown')) | Out-Null
  Set-FileContent ([System.IO.Path]::Combine($scripts, 'Shutdown\\' + $name)) ${psQuote(windowsShutdownHandover(spec))}
  $changed = $false
  $ini = [System.IO.Path]::Combine($scripts, 'psscripts.ini')
  $lines = @(if (Test-Path -LiteralPath $ini) { [System.IO.File]::ReadAllLines($ini) })
  if (-not ($lines -match ('^\\s*\\d+CmdLine\\s*=\\s*' + [regex]::Escape($name) + '\\s*$'))) {
    $out = New-Object System.Collections.Generic.List[string]
    $section = ''
    $next = 0
    $placed = $false
    foreach ($line in $lines) {
      if ($line -match '^\\s*\\[(.+)\\]\\s*$') {
        if ($section -eq 'Shutdown' -and -not $placed) { $out.Add(('{0}CmdLine={1}' -f $next, $name)); $out.Add(('{0}Parameters=' -f $next)); $placed = $true }
        $section = $Matches[1].Trim()
      } elseif ($section -eq 'Shutdown' -and $line -match '^\\s*(\\d+)CmdLine\\s*=') { $next = [Math]::Max($next, [int]$Matches[1] + 1) }
      $out.Add($line)
    }
    if (-not $placed) {
      if ($section -ne 'Shutdown') { $out.Add('[Shutdown]') }
      $out.Add(('{0}CmdLine={1}' -f $next, $name))
      $out.Add(('{0}Parameters=' -f $next))
    }
    # gpedit keeps the file hidden, and .NET will not overwrite a hidden file
    if (Test-Path -LiteralPath $ini) { [System.IO.File]::SetAttributes($ini, 'Normal') }
    [System.IO.File]::WriteAllLines($ini, $out, [System.Text.Encoding]::Unicode)
    [System.IO.File]::SetAttributes($ini, 'Hidden')
    $changed = $true
  }
  $gpt = [System.IO.Path]::Combine($gp, 'gpt.ini')
  $text = if (Test-Path -LiteralPath $gpt) { [System.IO.File]::ReadAllText($gpt) } else { '[General]' + [Environment]::NewLine }
  $cse = ${psQuote(GP_SCRIPTS_EXTENSION)}
  $names = if ($text -match '(?m)^gPCMachineExtensionNames=([^\r\n]*)') { $Matches[1].Trim() } else { '' }
  if (-not $names.Contains($cse)) {
    $sorted = @([regex]::Matches($names, '\\[[^\\]]*\\]') | ForEach-Object { $_.Value }) + $cse | Sort-Object
    $extensions = 'gPCMachineExtensionNames=' + ($sorted -join '')
    if ($text -match '(?m)^gPCMachineExtensionNames=') { $text = $text -replace '(?m)^gPCMachineExtensionNames=[^\r\n]*', $extensions }
    else { $text = $text -replace '\\[General\\]', ('[General]' + [Environment]::NewLine + $extensions) }
    $changed = $true
  }
  if ($changed) {
    $version = if ($text -match '(?m)^Version=(\\d+)') { [long]$Matches[1] } else { 0 }
    $raised = ($version -band 0xFFFF0000) -bor ((($version -band 0xFFFF) + 1) -band 0xFFFF)
    if ($text -match '(?m)^Version=') { $text = $text -replace '(?m)^Version=\\d+', ('Version=' + $raised) } else { $text = $text.TrimEnd() + [Environment]::NewLine + 'Version=' + $raised + [Environment]::NewLine }
    if (Test-Path -LiteralPath $gpt) { [System.IO.File]::SetAttributes($gpt, 'Normal') }
    [System.IO.File]::WriteAllText($gpt, $text, [System.Text.Encoding]::ASCII)
    gpupdate.exe /target:computer /force | Out-Null
    Write-Log 'installed the computer shutdown script that hands over'
  }
}
`;
}
