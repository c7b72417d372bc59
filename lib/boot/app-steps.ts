import type { ClusterSpec } from '../spec/cluster-spec';
import type { BootContext } from './context';
import { psArray, psQuote, sh, shArray, shQuote } from './quote';

/**
 * The vendor guide's per-node steps beyond links and the guard, as boot-script steps for
 * Linux (bash) and Windows (PowerShell): printing and tracking services disabled (step 5),
 * Print Deploy made failover-aware (its own section), the user client's config.properties
 * pointed at the load balancer. Each step is idempotent: it writes only what differs.
 */

/** The port the user client talks to: the profile's `http` port, else its first. */
export function clientPort(spec: ClusterSpec): number {
  return (spec.ports.find((p) => p.name === 'http') ?? spec.ports[0]).port;
}

/** Where Print Deploy's data folder lives on the share (relative to the share root). */
export const PRINT_DEPLOY_SHARE_DIR = 'print-deploy/data';

const rooted = (path: string): string => `"\${FG_ROOT}"${shQuote(path)}`;

/** Shell helpers the steps below use (only rendered when a step needs them). */
export const LINUX_APP_HELPERS = sh`# rewrite_file PATH < content: writes in place (owner and mode kept) only when the content differs
rewrite_file() {
  local path=$1 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if cmp -s -- "$tmp" "$path"; then rm -f -- "$tmp"; return 1; fi
  cat -- "$tmp" >"$path"
  rm -f -- "$tmp"
  log "updated $path"
}
# set_property FILE KEY VALUE: key=value in a properties or TOML file (first line replaced, else added)
set_property() {
  awk -v k="$2" -v v="$3" '
    BEGIN { done = 0 }
    { line = $0; sub(/^[ \t]+/, "", line) }
    !done && index(line, k) == 1 && substr(line, length(k) + 1) ~ /^[ \t]*[=:]/ { print k "=" v; done = 1; next }
    { print }
    END { if (!done) print k "=" v }
  ' "$1" | rewrite_file "$1" || true
}
`;

/** Linux: the profile's printing and tracking services disabled and stopped. */
export function linuxDisableServicesStep(spec: ClusterSpec): string {
  const p = spec.profile;
  return (`step "disable printing and tracking services"
DISABLE_UNITS=${shArray(p.disableServices ?? [])}
` + sh`for unit in "\${DISABLE_UNITS[@]}"; do
  state=$(systemctl is-enabled -- "$unit" 2>/dev/null || true)
  case "$state" in
    enabled|enabled-runtime|linked|linked-runtime|alias|indirect) systemctl disable -- "$unit"; log "disabled $unit" ;;
    *) ;;
  esac
  if systemctl is-active --quiet -- "$unit"; then systemctl stop -- "$unit"; log "stopped $unit"; fi
done
`);
}

/** Linux: Print Deploy's data on the share, its HA check on, no random start delay. */
export function linuxPrintDeployStep(spec: ClusterSpec): string {
  const pd = spec.profile.printDeploy!;
  const share = spec.sharedItems.length > 0;
  return (`step "make Print Deploy failover-aware"
PD_DIR=${rooted(pd.dir)}
PD_UNIT=${shQuote(pd.serviceName)}
PD_SHARE_DIR=${shQuote(PRINT_DEPLOY_SHARE_DIR)}
PD_LINK_DATA=${share ? 1 : 0}
` + sh`if [ ! -d "$PD_DIR" ]; then
  log "Print Deploy is not installed at $PD_DIR: nothing to do"
else
  pd_changed=0
  pd_data="$PD_DIR/data"
  pd_target="\${MOUNT_POINT:-}/$PD_SHARE_DIR"
  if [ "$PD_LINK_DATA" = 1 ] && [ "$(readlink -- "$pd_data" || true)" != "$pd_target" ]; then
    # its data folder goes on the share like the server's (first node seeds it, under the seed lock)
    systemctl stop -- "$PD_UNIT" || true
    exec 8>>"$MOUNT_POINT/$SEED_LOCK_NAME"
    flock -w 1800 8 || fail "could not lock $MOUNT_POINT/$SEED_LOCK_NAME within 30 minutes"
    if [ ! -e "$pd_target" ]; then
      mkdir -p -- "$(dirname -- "$pd_target")"
      rm -rf -- "$pd_target.fg-seeding"
      if [ -d "$pd_data" ]; then cp -a -- "$pd_data" "$pd_target.fg-seeding"; else mkdir -p -- "$pd_target.fg-seeding"; fi
      mv -- "$pd_target.fg-seeding" "$pd_target"
      if user_exists; then chown -R -- "$SERVICE_USER:" "$pd_target"; fi
      log "copied Print Deploy's data folder to the share"
    fi
    exec 8>&-
    if [ -L "$pd_data" ]; then rm -f -- "$pd_data"; elif [ -e "$pd_data" ]; then
      bak="$pd_data.bak"
      n=1
      while [ -e "$bak" ] || [ -L "$bak" ]; do bak="$pd_data.bak.$n"; n=$((n + 1)); done
      mv -- "$pd_data" "$bak"
    fi
    ln -sfn -- "$pd_target" "$pd_data"
    log "linked Print Deploy's data -> $pd_target"
    pd_changed=1
  fi
  pd_toml="$pd_data/config/client.conf.toml"
  mkdir -p -- "$(dirname -- "$pd_toml")"
  if [ ! -e "$pd_toml" ]; then touch -- "$pd_toml"; fi
  if ! grep -qE '^[[:space:]]*HighAvailabilityCheckEnabled[[:space:]]*=[[:space:]]*true[[:space:]]*$' "$pd_toml"; then
    if grep -qE '^[[:space:]]*HighAvailabilityCheckEnabled[[:space:]]*=' "$pd_toml"; then
      set_property "$pd_toml" HighAvailabilityCheckEnabled true
    else
      # top of the file: the root table, whatever tables follow
      { printf 'HighAvailabilityCheckEnabled=true\n'; cat -- "$pd_toml"; } | rewrite_file "$pd_toml" || true
    fi
    pd_changed=1
  fi
  for pd_conf in "$PD_DIR/default-pc-print-deploy.conf" "$PD_DIR/pc-print-deploy.conf"; do
    # StartupRandomDelaySecs 0 in both the ScheduledTasks and the StartupTasks section
    if [ -f "$pd_conf" ] && grep -qE '"StartupRandomDelaySecs"[[:space:]]*:[[:space:]]*[1-9]' "$pd_conf"; then
      sed -E 's/("StartupRandomDelaySecs"[[:space:]]*:[[:space:]]*)[0-9]+/\10/g' "$pd_conf" | rewrite_file "$pd_conf" || true
      pd_changed=1
    fi
  done
  if [ "$pd_changed" = 1 ]; then systemctl try-restart -- "$PD_UNIT" || true; fi
fi
`);
}

/** Linux: the user client's config.properties pointed at the load balancer. */
export function linuxClientConfigStep(spec: ClusterSpec, ctx: BootContext): string {
  const p = spec.profile;
  return (`step "point the user client at the load balancer"
CLIENT_DIR=${rooted(p.clientConfigDir!)}
LB_ADDRESS=${shQuote(ctx.app?.networkAddress ?? '')}
CLIENT_PORT=${shQuote(String(clientPort(spec)))}
` + sh`found=0
for cfg in "$CLIENT_DIR"/*/config.properties; do
  [ -f "$cfg" ] || continue
  found=1
  set_property "$cfg" server-name "$LB_ADDRESS"
  set_property "$cfg" server-address "$LB_ADDRESS"
  set_property "$cfg" server-port "$CLIENT_PORT"
done
if [ "$found" = 0 ]; then log "no user client config.properties under $CLIENT_DIR"; fi
`);
}

/** PowerShell: the same steps. */
/** Windows: the profile's printing and tracking services disabled and stopped. */
export function windowsDisableServicesStep(spec: ClusterSpec): string {
  const p = spec.profile;
  return (`Invoke-Step 'disable printing and tracking services' {
  foreach ($name in ${psArray(p.disableServices ?? [])}) {
    $svc = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $svc) { continue }
    if ($svc.StartType -ne 'Disabled') { Set-Service -Name $name -StartupType Disabled; Write-Log "disabled $name" }
    if ($svc.Status -ne 'Stopped') { Stop-Service -Name $name -Force; Write-Log "stopped $name" }
  }
}
`);
}

/** Windows: Print Deploy's data on the share, its HA check on, no random start delay. */
export function windowsPrintDeployStep(spec: ClusterSpec): string {
  const pd = spec.profile.printDeploy!;
  const share = spec.sharedItems.length > 0;
  return (`Invoke-Step 'make Print Deploy failover-aware' {
  $pdDir = ${psQuote(pd.dir)}
  $pdService = ${psQuote(pd.serviceName)}
  $pdChanged = $false
  if (-not (Test-Path -LiteralPath $pdDir)) { Write-Log "Print Deploy is not installed at $($pdDir): nothing to do"; return }
  $pdData = Join-Path $pdDir 'data'
${
  share
    ? `  $pdTarget = [System.IO.Path]::Combine($ShareRoot, ${psQuote(PRINT_DEPLOY_SHARE_DIR.replace('/', '\\'))})
  if ((ConvertTo-PlainPath (Get-LinkTarget $pdData)) -ne (ConvertTo-PlainPath $pdTarget)) {
    Stop-Service -Name $pdService -ErrorAction SilentlyContinue
    # the first node seeds it, under the seed lock, as on Linux
    $lock = Enter-SeedLock
    try {
      if (-not (Test-Path -LiteralPath $pdTarget)) {
        $partial = "$pdTarget.fg-seeding"
        if (Test-Path -LiteralPath $partial) { Remove-Item -LiteralPath $partial -Recurse -Force }
        if (Test-Path -LiteralPath $pdData) { Copy-Item -LiteralPath $pdData -Destination $partial -Recurse } else { [System.IO.Directory]::CreateDirectory($partial) | Out-Null }
        Rename-Item -LiteralPath $partial -NewName ([System.IO.Path]::GetFileName($pdTarget))
        Write-Log "copied Print Deploy's data folder to the share"
      }
    } finally { $lock.Dispose() }
    $existing = Get-Item -LiteralPath $pdData -Force -ErrorAction SilentlyContinue
    if ($null -ne $existing -and $existing.LinkType -eq 'SymbolicLink') { $existing.Delete() }
    elseif ($null -ne $existing) {
      $bak = "$pdData.bak"
      $n = 1
      while (Test-Path -LiteralPath $bak) { $bak = "$pdData.bak.$n"; $n++ }
      Rename-Item -LiteralPath $pdData -NewName ([System.IO.Path]::GetFileName($bak))
    }
    New-SymbolicLink $pdData $pdTarget $true
    Write-Log "linked Print Deploy's data -> $pdTarget"
    $pdChanged = $true
  }
`
    : ''
}  $toml = Join-Path $pdData 'config\\client.conf.toml'
  [System.IO.Directory]::CreateDirectory((Split-Path -Parent $toml)) | Out-Null
  $text = if (Test-Path -LiteralPath $toml) { [System.IO.File]::ReadAllText($toml) } else { '' }
  if ($text -notmatch '(?m)^\\s*HighAvailabilityCheckEnabled\\s*=\\s*true\\s*$') {
    if ($text -match '(?m)^\\s*HighAvailabilityCheckEnabled\\s*=') { $text = $text -replace '(?m)^\\s*HighAvailabilityCheckEnabled\\s*=.*$', 'HighAvailabilityCheckEnabled=true' }
    else { $text = "HighAvailabilityCheckEnabled=true\`r\`n" + $text }
    Set-FileContent $toml $text
    $pdChanged = $true
  }
  foreach ($conf in @((Join-Path $pdDir 'default-pc-print-deploy.conf'), (Join-Path $pdDir 'pc-print-deploy.conf'))) {
    if (-not (Test-Path -LiteralPath $conf)) { continue }
    $c = [System.IO.File]::ReadAllText($conf)
    $fixed = $c -replace '("StartupRandomDelaySecs"\\s*:\\s*)[0-9]+', '\${1}0'
    if ($fixed -ne $c) { Set-FileContent $conf $fixed; $pdChanged = $true }
  }
  if ($pdChanged -and (Get-Service -Name $pdService -ErrorAction SilentlyContinue)) { Restart-Service -Name $pdService -Force }
}
`);
}

/** Windows: the user client's config.properties pointed at the load balancer. */
export function windowsClientConfigStep(spec: ClusterSpec, ctx: BootContext): string {
  const p = spec.profile;
  return (`Invoke-Step 'point the user client at the load balancer' {
  $clientDir = ${psQuote(p.clientConfigDir!)}
  $want = [ordered]@{ 'server-name' = ${psQuote(ctx.app?.networkAddress ?? '')}; 'server-address' = ${psQuote(ctx.app?.networkAddress ?? '')}; 'server-port' = ${psQuote(String(clientPort(spec)))} }
  foreach ($cfg in @(Get-ChildItem -LiteralPath $clientDir -Filter config.properties -Recurse -Depth 1 -ErrorAction SilentlyContinue)) {
    $lines = [System.Collections.Generic.List[string]]([System.IO.File]::ReadAllLines($cfg.FullName))
    foreach ($key in $want.Keys) {
      $i = -1
      for ($n = 0; $n -lt $lines.Count; $n++) { if ($lines[$n] -match ('^\\s*' + [regex]::Escape($key) + '\\s*[=:]')) { $i = $n; break } }
      if ($i -ge 0) { $lines[$i] = "$key=$($want[$key])" } else { $lines.Add("$key=$($want[$key])") }
    }
    Set-FileContent $cfg.FullName (($lines -join "\`r\`n") + "\`r\`n")
  }
}
`);
}
