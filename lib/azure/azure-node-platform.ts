import type { GuardBinaryFetch, NodePlatform, ReplacementWatch } from '../boot/platform';
import { mismatch } from '../boot/plan';
import { psQuote, sh, shQuote } from '../boot/quote';
import type { Problem } from '../problems/problems';

/** Azure Load Balancer health probes come from this address (Azure's virtual public IP). */
export const AZURE_PROBE_SOURCE = '168.63.129.16';

/**
 * An Azure VM: its VM id from the instance metadata service, tokens for its managed identity
 * (the user-assigned one whose client id is given), health probes from Azure's probe address.
 */
export function azureNodePlatform(managedIdentityClientId?: string): NodePlatform {
  return {
    name: 'Azure',
    ...(managedIdentityClientId !== undefined ? { managedIdentityClientId } : {}),
    defaultHealthProbeSources: [AZURE_PROBE_SOURCE],
    windowsInstanceId: `$instance = Invoke-WithRetry 'VM id' { Invoke-RestMethod -UseBasicParsing -Headers @{ Metadata = 'true' } -Uri 'http://169.254.169.254/metadata/instance/compute/vmId?api-version=2021-02-01&format=text' }`,
  };
}

/** Downloaded with a managed-identity token from the instance metadata service. */
export function azureGuardBlob(blob: { readonly url: string; readonly sha256: string }): GuardBinaryFetch {
  const url = blob.url;
  return {
    sha256: blob.sha256,
    usesImdsToken: true,
    problems(): Problem[] {
      return mismatch(/^https:\/\/[^\s'"`$\\]+$/, url) ? [{ path: 'guardBinary.url', message: 'must be an https:// blob URL without spaces or quotes' }] : [];
    },
    linux: () => ({
      values: `GUARD_BLOB_URL=${shQuote(url)}
`,
      download: sh`  storage_token=$(imds_token 'https://storage.azure.com/')
  retry curl -fsS --retry 5 -H 'x-ms-version: 2020-10-02' -H "Authorization: Bearer $storage_token" -o "$download" "$GUARD_BLOB_URL"
  unset storage_token`,
    }),
    windows: () => `$token = Get-ImdsToken 'https://storage.azure.com/'
Invoke-WithRetry 'guard download' { Invoke-WebRequest -UseBasicParsing -Uri ${psQuote(url)} -Headers @{ 'x-ms-version' = '2020-10-02'; Authorization = "Bearer $token" } -OutFile $download }
Remove-Variable token`,
  };
}

/** Events after which this VM is gone or restarted: each is a handover first. (Freeze, a pause of seconds, is left to the lease.) */
export const AZURE_HANDOVER_EVENTS = ['Terminate', 'Reboot', 'Redeploy', 'Preempt'] as const;

/**
 * The scale set's termination notification: a scheduled event for this VM. Linux waits for a
 * Terminate, Windows also for a Reboot, Redeploy or Preempt; approving the event lets Azure go
 * on at once instead of at its deadline.
 */
export const AZURE_SCHEDULED_EVENTS_WATCH: ReplacementWatch = {
  linux: () =>
    sh`EVENTS_URL='http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01'
NAME_URL='http://169.254.169.254/metadata/instance/compute/name?api-version=2021-02-01&format=text'
# prints the id of a Terminate event naming this VM, if there is one
terminate_event() {
  curl -fsS -H Metadata:true "$EVENTS_URL" | python3 -c '
import json, sys
events = json.load(sys.stdin).get("Events", [])
print(next((e["EventId"] for e in events if e.get("EventType") == "Terminate" and sys.argv[1] in e.get("Resources", [])), ""))
' "$1"
}
wait_for_notice() {
  local vm_name=""
  until [ -n "$vm_name" ]; do vm_name=$(curl -fsS -H Metadata:true "$NAME_URL" 2>/dev/null || true); [ -n "$vm_name" ] || sleep 5; done
  until EVENT_ID=$(terminate_event "$vm_name" 2>/dev/null) && [ -n "$EVENT_ID" ]; do sleep 5; done
}
let_it_go() {
  curl -fsS -H Metadata:true -X POST -d "{\"StartRequests\":[{\"EventId\":\"$EVENT_ID\"}]}" "$EVENTS_URL" >/dev/null
}
`,
  windows: () => `$EventsUrl = 'http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01'
$HandoverEvents = @(${AZURE_HANDOVER_EVENTS.map(psQuote).join(', ')})
$script:EventId = ''
function Wait-ForNotice {
  $vm = ''
  while (-not $vm) {
    try { $vm = [string](Invoke-RestMethod -UseBasicParsing -Headers @{ Metadata = 'true' } -Uri 'http://169.254.169.254/metadata/instance/compute/name?api-version=2021-02-01&format=text') } catch { Start-Sleep -Seconds 5 }
  }
  for (;;) {
    try {
      $events = @((Invoke-RestMethod -UseBasicParsing -Headers @{ Metadata = 'true' } -Uri $EventsUrl).Events)
      $due = @($events | Where-Object { $HandoverEvents -contains $_.EventType -and @($_.Resources) -contains $vm }) | Select-Object -First 1
      if ($null -ne $due) { $script:EventId = [string]$due.EventId; return [string]$due.EventType }
    } catch { }
    Start-Sleep -Seconds 5
  }
}
# approving the event lets Azure go on at once instead of at its deadline
function Complete-Notice {
  $body = ConvertTo-Json -InputObject @{ StartRequests = @(@{ EventId = $script:EventId }) } -Depth 3
  for ($try = 1; $try -le 30; $try++) {
    try { Invoke-RestMethod -UseBasicParsing -Headers @{ Metadata = 'true' } -Method Post -ContentType 'application/json' -Uri $EventsUrl -Body $body | Out-Null; return }
    catch { Start-Sleep -Seconds 5 }
  }
}
`,
};

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
