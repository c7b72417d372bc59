import type { ClusterSpec } from '../spec/cluster-spec';
import type { BootContext } from './context';
import { LINUX, SHARE_FILES, oneLine, checkBootInput, guardNode, loopbackVip, shareOf, usesGuard, usesImds, usesShare, managedIdentityClientId } from './plan';
import { sh, shArray, shQuote } from './quote';
import { rooted, usesJson } from './linux-steps';
import { stepsFor } from './steps';

/**
 * The Linux boot script (bash, for cloud-init user data). Every value from the spec or the
 * context is assigned once at the top through {@link shQuote}; the steps below only use those
 * variables, so no value is ever parsed as code. Throws a ValidationError naming the field when
 * spec or context cannot make a working script.
 */
export function renderLinuxBootScript(spec: ClusterSpec, ctx: BootContext): string {
  checkBootInput(spec, ctx, 'linux');
  const parts = [header(spec), values(spec, ctx), LIBRARY];
  if (usesJson(spec, ctx)) parts.push(JSON_HELPER);
  if (usesImds(spec, ctx)) parts.push(IMDS_HELPER);
  parts.push(RETRY_HELPER, PRELUDE, ...stepsFor('linux', spec, ctx).map((step) => step.render(spec, ctx)));
  parts.push('step "done"\nlog "boot script finished"\n');
  return parts.join('\n');
}

function header(spec: ClusterSpec): string {
  return `#!/bin/bash
# failover-constructs boot script for cluster ${spec.name} (${oneLine(spec.profile.displayName)}).
# Generated from the cluster spec: do not edit. Every step is idempotent; a re-run changes nothing.
# Logs to ${LINUX.log} and the console; on failure exits non-zero naming the failed step.
#
# Environment (for tests only; unset in production):
#   FG_ROOT   prefix for every path this script reads or writes: /etc (fstab, systemd units,
#             sysctl.d, failover-guard), /usr/local/bin, /var/log, /var/lib, the app's install
#             dir and the share's mount point. Default: empty, the real root.
# External commands are called by name (systemctl, dnf/yum/apt-get, mount, mountpoint, aws,
# curl, ip, sysctl), so recording shims placed first on PATH stand in for them.
set -euo pipefail
set -o errtrace
umask 022
export PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FG_ROOT="\${FG_ROOT:-}"
`;
}

function values(spec: ClusterSpec, ctx: BootContext): string {
  const p = spec.profile;
  const share = usesShare(spec);
  const guard = usesGuard(spec);
  const lines: Array<string | false> = [
    '# ---- values from the cluster spec and the cloud context (each one quoted) ----',
    `CLUSTER_NAME=${shQuote(spec.name)}`,
    (share || p.deleteOnClone.length > 0) && `INSTALL_DIR=${rooted(p.installDir)}`,
    `APP_UNIT=${shQuote(p.serviceName)}`,
    `SERVICE_USER=${shQuote(p.serviceUser ?? '')}`,
    `LOG_FILE=${rooted(LINUX.log)}`,
    `MACHINE_ID_FILE=${rooted('/etc/machine-id')}`,
    share && `MOUNT_POINT=${rooted(ctx.mountPoint ?? LINUX.defaultMountPoint)}`,
    share && `SHARED_PATHS=${shArray(spec.sharedItems.map((i) => i.path))}`,
    share && `SHARED_TYPES=${shArray(spec.sharedItems.map((i) => i.type))}`,
    share && `FSTAB=${rooted(LINUX.fstab)}`,
    share && `SEED_LOCK_NAME=${shQuote(SHARE_FILES.lock)}`,
    share && `SEEDED_NAME=${shQuote(SHARE_FILES.seeded)}`,
    share && shareOf(ctx).kind === 'smb' && `SMB_CREDENTIALS=${rooted(LINUX.smbCredentials)}`,
    p.deleteOnClone.length > 0 && `DELETE_ON_CLONE=${shArray(p.deleteOnClone)}`,
    p.deleteOnClone.length > 0 && `STATE_DIR=${rooted(LINUX.stateDir)}`,
    loopbackVip(spec, ctx) !== undefined && `SYSCTL_FILE=${rooted(LINUX.sysctlFile)}`,
    (guard || loopbackVip(spec, ctx) !== undefined) && `UNIT_DIR=${rooted(LINUX.unitDir)}`,
    (guard || (share && shareOf(ctx).kind === 'smb')) && `GUARD_CONFIG_DIR=${rooted(LINUX.guardConfigDir)}`,
    guard && `GUARD_CONFIG=${rooted(LINUX.guardConfig)}`,
    guard && `GUARD_BIN=${rooted(LINUX.guardBinary)}`,
    guard && `GUARD_SHA256=${shQuote(guardNode(ctx).guardBinary.sha256.toLowerCase())}`,
    usesImds(spec, ctx) && `MANAGED_IDENTITY_CLIENT_ID=${shQuote(managedIdentityClientId(ctx) ?? '')}`,
  ];
  return lines.filter((l): l is string => l !== false).join('\n') + '\n';
}


/** Helpers every step uses. Static text: no value is interpolated here. */
const LIBRARY = sh`# ---- helpers ----
STEP="start"
FAILED_LINE=""
FAIL_MESSAGE=""
log() { printf '%s failover-guard-boot: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
step() { STEP=$1; log "step: $1"; }
fail() { FAIL_MESSAGE=$*; exit 1; }
on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    log "FAILED in step '$STEP' (exit $rc\${FAILED_LINE:+, line $FAILED_LINE})\${FAIL_MESSAGE:+: $FAIL_MESSAGE}"
  fi
  # let tee write the last lines before the script ends
  exec >&- 2>&-
  if [ -n "\${TEE_PID:-}" ]; then wait "$TEE_PID" 2>/dev/null || true; fi
  exit "$rc"
}
trap 'FAILED_LINE=$LINENO' ERR
trap on_exit EXIT
# install_file PATH MODE < content: writes only when the content differs, always sets the mode
install_file() {
  local path=$1 mode=$2 tmp
  mkdir -p -- "$(dirname -- "$path")"
  tmp=$(mktemp -- "$path.fg-XXXXXX")
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s -- "$tmp" "$path"; then
    rm -f -- "$tmp"
    chmod -- "$mode" "$path"
  else
    chmod -- "$mode" "$tmp"
    mv -f -- "$tmp" "$path"
    log "wrote $path (mode $mode)"
  fi
}
user_exists() { [ -n "$SERVICE_USER" ] && id -u -- "$SERVICE_USER" >/dev/null 2>&1; }
`;

const JSON_HELPER = sh`json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
`;

const IMDS_HELPER = sh`# An access token for RESOURCE from the Azure instance metadata service (managed identity).
imds_token() {
  local url="http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$1"
  if [ -n "$MANAGED_IDENTITY_CLIENT_ID" ]; then url="$url&client_id=$MANAGED_IDENTITY_CLIENT_ID"; fi
  retry curl -fsS --retry 10 --retry-delay 3 -H Metadata:true "$url" | json_field access_token
}
`;

const PRELUDE = sh`# ---- start: log to the file and the console ----
mkdir -p -- "$(dirname -- "$LOG_FILE")"
exec > >(tee -a -- "$LOG_FILE") 2>&1
TEE_PID=$!
if [ "$(id -u)" != 0 ]; then fail "must run as root"; fi
if [ -s "$MACHINE_ID_FILE" ]; then NODE_ID=$(<"$MACHINE_ID_FILE"); else NODE_ID=$(hostname); fi
log "boot script for cluster $CLUSTER_NAME on node $NODE_ID"
`;

/**
 * `retry CMD…`: runs CMD until it succeeds, 60 tries 10 s apart. A role assignment (Azure) or
 * an instance-role policy (AWS) made in the same apply answers 403 for minutes after the VM
 * boots, and neither `curl --retry` nor the aws CLI retries a 403; apt's lists lock is held by
 * apt-daily at first boot. Messages go to stderr so a command's output stays clean for a pipe.
 */
const RETRY_HELPER = sh`RETRY_ATTEMPTS=60
RETRY_DELAY_SECS=10
retry() {
  local n=1
  until "$@"; do
    if [ "$n" -ge "$RETRY_ATTEMPTS" ]; then
      log "gave up after $n attempts: $1" >&2
      return 1
    fi
    log "attempt $n of $RETRY_ATTEMPTS failed: $1 (retrying in $RETRY_DELAY_SECS s; a new permission or another process's lock can take minutes)" >&2
    sleep "$RETRY_DELAY_SECS"
    n=$((n + 1))
  done
}
`;

