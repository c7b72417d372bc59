import type { ClusterSpec } from '../spec/cluster-spec';
import type { BootContext } from './context';
import { LINUX, SHARE_FILES, oneLine, checkBootInput, guardConfigText, loopbackVip, smbSecretRef, usesGuard, usesImds, usesShare, managedIdentityClientId } from './plan';
import { sh, shArray, shHeredoc, shQuote } from './quote';
import { LINUX_APP_HELPERS, linuxAppSteps } from './app-steps';

/** NFS 4.1 options AWS and Azure both recommend (large blocks, hard mounts, new source port on reconnect). */
export const NFS_OPTIONS = ['nfsvers=4.1', 'rsize=1048576', 'wsize=1048576', 'hard', 'timeo=600', 'retrans=2', 'noresvport'];
/** Every share: wait for the network, mount on first access (systemd automount). */
const COMMON_OPTIONS = ['_netdev', 'x-systemd.automount'];

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
  parts.push(PRELUDE);
  if (usesShare(spec)) {
    parts.push(installPackagesStep(spec, ctx));
    if (ctx.share.kind === 'smb') parts.push(smbCredentialsStep(spec, ctx));
    parts.push(mountStep(ctx), SEED_STEP, LINK_STEP);
  }
  if (spec.profile.deleteOnClone.length > 0) parts.push(CLONE_STEP);
  const appSteps = linuxAppSteps(spec, ctx);
  if (appSteps.length > 0) parts.push(LINUX_APP_HELPERS, ...appSteps);
  const vip = loopbackVip(spec, ctx);
  if (vip !== undefined) parts.push(vipStep(vip));
  if (usesGuard(spec)) parts.push(guardBinaryStep(ctx), guardConfigStep(spec, ctx), guardUnitStep(spec, ctx));
  else parts.push(APP_SERVICE_STEP);
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

/** `VAR="${FG_ROOT}"'/abs/path'`: a production path under the overridable root. */
const rooted = (path: string): string => `"\${FG_ROOT}"${shQuote(path)}`;

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
    share && ctx.share.kind === 'smb' && `SMB_CREDENTIALS=${rooted(LINUX.smbCredentials)}`,
    p.deleteOnClone.length > 0 && `DELETE_ON_CLONE=${shArray(p.deleteOnClone)}`,
    p.deleteOnClone.length > 0 && `STATE_DIR=${rooted(LINUX.stateDir)}`,
    loopbackVip(spec, ctx) !== undefined && `SYSCTL_FILE=${rooted(LINUX.sysctlFile)}`,
    (guard || loopbackVip(spec, ctx) !== undefined) && `UNIT_DIR=${rooted(LINUX.unitDir)}`,
    (guard || (share && ctx.share.kind === 'smb')) && `GUARD_CONFIG_DIR=${rooted(LINUX.guardConfigDir)}`,
    guard && `GUARD_CONFIG=${rooted(LINUX.guardConfig)}`,
    guard && `GUARD_BIN=${rooted(LINUX.guardBinary)}`,
    guard && `GUARD_SHA256=${shQuote(ctx.guardBinary.sha256.toLowerCase())}`,
    usesImds(spec, ctx) && `MANAGED_IDENTITY_CLIENT_ID=${shQuote(managedIdentityClientId(ctx) ?? '')}`,
  ];
  return lines.filter((l): l is string => l !== false).join('\n') + '\n';
}

/** Python parses JSON (secrets, tokens): present on every cloud image, installed otherwise. */
function usesJson(spec: ClusterSpec, ctx: BootContext): boolean {
  return usesImds(spec, ctx) || (usesShare(spec) && ctx.share.kind === 'smb');
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
  curl -fsS --retry 10 --retry-delay 3 -H Metadata:true "$url" | json_field access_token
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

/** Package names per package-manager family. */
function packages(spec: ClusterSpec, ctx: BootContext): { rpm: string[]; deb: string[]; optionalRpm: string[] } {
  const json = usesJson(spec, ctx) ? ['python3'] : [];
  if (ctx.share.kind === 'smb') return { rpm: ['cifs-utils', ...json], deb: ['cifs-utils', ...json], optionalRpm: [] };
  return { rpm: ['nfs-utils', ...json], deb: ['nfs-common', ...json], optionalRpm: ctx.share.kind === 'efs' ? ['amazon-efs-utils'] : [] };
}

function installPackagesStep(spec: ClusterSpec, ctx: BootContext): string {
  const { rpm, deb, optionalRpm } = packages(spec, ctx);
  const optional = optionalRpm.length === 0 ? '' : sh`
  if ! rpm -q "\${OPTIONAL_RPM[@]}" >/dev/null 2>&1; then
    "$pm" -y install "\${OPTIONAL_RPM[@]}" || log "not available here: \${OPTIONAL_RPM[*]} (continuing without it)"
  fi`;
  return `step "install share client tools"
PACKAGES_RPM=${shArray(rpm)}
PACKAGES_DEB=${shArray(deb)}
${optionalRpm.length > 0 ? `OPTIONAL_RPM=${shArray(optionalRpm)}\n` : ''}` + sh`if command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
  if command -v dnf >/dev/null 2>&1; then pm=dnf; else pm=yum; fi
  if ! rpm -q "\${PACKAGES_RPM[@]}" >/dev/null 2>&1; then "$pm" -y install "\${PACKAGES_RPM[@]}"; fi${optional}
elif command -v apt-get >/dev/null 2>&1; then
  if ! dpkg -s "\${PACKAGES_DEB[@]}" >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "\${PACKAGES_DEB[@]}"
  fi
else
  fail "no package manager found (dnf, yum or apt-get)"
fi
`;
}

/** Fetches the SMB user/password secret at boot into a root-only credentials file. */
function smbCredentialsStep(spec: ClusterSpec, ctx: BootContext): string {
  const ref = smbSecretRef(spec, ctx) as string; // checked: required for SMB on Linux
  const [scheme, ...rest] = ref.split(':');
  const target = rest.join(':');
  let fetch: string;
  if (scheme === 'aws-secretsmanager') {
    fetch = sh`command -v aws >/dev/null 2>&1 || fail "the aws CLI is needed to read the SMB credentials secret"
SECRET_REGION=$(printf '%s' "$SECRET_ID" | cut -d: -f4)
secret_json=$(aws secretsmanager get-secret-value --region "$SECRET_REGION" --secret-id "$SECRET_ID" --query SecretString --output text)`;
  } else if (scheme === 'azure-keyvault') {
    fetch = sh`kv_token=$(imds_token 'https://vault.azure.net')
secret_json=$(curl -fsS --retry 5 -H "Authorization: Bearer $kv_token" "$SECRET_ID?api-version=7.4" | json_field value)
unset kv_token`;
  } else {
    fetch = sh`secret_json=$(<"$SECRET_ID")`;
  }
  return `step "write the SMB credentials file"
SECRET_ID=${shQuote(target)}
${fetch}
` + sh`smb_user=$(printf '%s' "$secret_json" | json_field username)
smb_password=$(printf '%s' "$secret_json" | json_field password)
unset secret_json
mkdir -p -- "$GUARD_CONFIG_DIR"
chmod 0700 -- "$GUARD_CONFIG_DIR"
printf 'username=%s\npassword=%s\n' "$smb_user" "$smb_password" | install_file "$SMB_CREDENTIALS" 0600
unset smb_password
`;
}

function mountStep(ctx: BootContext): string {
  const share = ctx.share;
  const extra = share.mountOptions ?? [];
  let source: string;
  if (share.kind === 'efs') {
    // The EFS helper mounts over TLS; without it, plain NFS 4.1 to the file system's DNS name.
    source = `if command -v mount.efs >/dev/null 2>&1; then
  SHARE_SOURCE=${shQuote(`${share.fileSystemId}:/`)}
  SHARE_TYPE=efs
  SHARE_OPTIONS=${shQuote(['tls', ...COMMON_OPTIONS, ...extra].join(','))}
else
  log "amazon-efs-utils (mount.efs) not found: mounting EFS over NFS 4.1 without TLS"
  SHARE_SOURCE=${shQuote(`${share.fileSystemId}.efs.${share.region}.amazonaws.com:/`)}
  SHARE_TYPE=nfs4
  SHARE_OPTIONS=${shQuote([...NFS_OPTIONS, ...COMMON_OPTIONS, ...extra].join(','))}
fi`;
  } else if (share.kind === 'nfs') {
    source = `SHARE_SOURCE=${shQuote(share.address)}
SHARE_TYPE=nfs4
SHARE_OPTIONS=${shQuote([...NFS_OPTIONS, ...COMMON_OPTIONS, ...extra].join(','))}`;
  } else {
    const smbOptions = ['vers=3.1.1', 'serverino', 'mfsymlinks', 'dir_mode=0770', 'file_mode=0660', ...COMMON_OPTIONS, ...extra];
    source = `SHARE_SOURCE=${shQuote(share.address.replace(/\\/g, '/'))}
SHARE_TYPE=cifs
SHARE_OPTIONS=${shQuote(smbOptions.join(','))}
SHARE_OPTIONS="$SHARE_OPTIONS,credentials=$SMB_CREDENTIALS"
# files on an SMB share belong to whoever the mount says: the app's user
if user_exists; then SHARE_OPTIONS="$SHARE_OPTIONS,uid=$SERVICE_USER,gid=$(id -g -- "$SERVICE_USER")"; fi`;
  }
  return `step "mount the share"
${source}
` + sh`FSTAB_LINE="$SHARE_SOURCE $MOUNT_POINT $SHARE_TYPE $SHARE_OPTIONS 0 0"
mkdir -p -- "$MOUNT_POINT" "$(dirname -- "$FSTAB")"
if [ ! -e "$FSTAB" ]; then touch -- "$FSTAB"; fi
if ! grep -qxF -- "$FSTAB_LINE" "$FSTAB"; then
  # drop an older line for this mount point, add ours; replace the file atomically (same owner and mode)
  fstab_kept=$(awk -v mp="$MOUNT_POINT" '$2 != mp' "$FSTAB")
  cp -p -- "$FSTAB" "$FSTAB.fg-new"
  printf '%s\n%s\n' "$fstab_kept" "$FSTAB_LINE" | sed '/./,$!d' >"$FSTAB.fg-new"
  mv -f -- "$FSTAB.fg-new" "$FSTAB"
  log "fstab: $FSTAB_LINE"
fi
if mountpoint -q -- "$MOUNT_POINT"; then
  log "share already mounted at $MOUNT_POINT"
else
  systemctl daemon-reload
  mount -- "$MOUNT_POINT"
fi
mountpoint -q -- "$MOUNT_POINT" || fail "the share is not mounted at $MOUNT_POINT"
`;
}

/**
 * The first node to take the lock copies its items to the share and writes the marker last;
 * later nodes (and re-runs) find the marker and only add items missing from the share.
 * An item already on the share is never overwritten.
 */
const SEED_STEP = sh`step "seed the share"
exec 9>>"$MOUNT_POINT/$SEED_LOCK_NAME"
if ! flock -n 9; then
  log "another node is seeding the share; waiting for its lock"
  flock -w 1800 9 || fail "could not lock $MOUNT_POINT/$SEED_LOCK_NAME within 30 minutes"
fi
if [ -e "$MOUNT_POINT/$SEEDED_NAME" ]; then
  seeding=0
  log "share already seeded"
else
  seeding=1
  log "seeding the share from this node ($NODE_ID)"
fi
for i in "\${!SHARED_PATHS[@]}"; do
  rel=\${SHARED_PATHS[$i]}
  src="$INSTALL_DIR/$rel"
  dst="$MOUNT_POINT/$rel"
  if [ -e "$dst" ] || [ -L "$dst" ]; then continue; fi
  # once linked, this node's original is the .bak
  if [ -L "$src" ]; then src="$src.bak"; fi
  mkdir -p -- "$(dirname -- "$dst")"
  if [ -e "$src" ] && [ ! -L "$src" ]; then
    rm -rf -- "$dst.fg-seeding"
    cp -a -- "$src" "$dst.fg-seeding"
    mv -- "$dst.fg-seeding" "$dst"
    log "copied $rel to the share"
  elif [ "\${SHARED_TYPES[$i]}" = directory ]; then
    mkdir -p -- "$dst"
    log "created directory $rel on the share (not found locally)"
  else
    log "warning: $rel not found locally; the app creates it on the share"
    continue
  fi
  if user_exists; then chown -R -- "$SERVICE_USER:" "$dst"; fi
done
if [ "$seeding" = 1 ]; then
  printf '%s %s\n' "$NODE_ID" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$MOUNT_POINT/$SEEDED_NAME"
  log "share seeded"
fi
exec 9>&-
`;

/** Originals are kept as `<name>.bak` (or `.bak.N` when a `.bak` is there already). */
const LINK_STEP = sh`step "link the shared items"
needs_link=0
for rel in "\${SHARED_PATHS[@]}"; do
  if [ "$(readlink -- "$INSTALL_DIR/$rel" || true)" != "$MOUNT_POINT/$rel" ]; then needs_link=1; fi
done
if [ "$needs_link" = 1 ]; then
  # the app must not run while its files move
  systemctl stop -- "$APP_UNIT" || true
fi
for i in "\${!SHARED_PATHS[@]}"; do
  rel=\${SHARED_PATHS[$i]}
  local_path="$INSTALL_DIR/$rel"
  target="$MOUNT_POINT/$rel"
  if [ "\${SHARED_TYPES[$i]}" = directory ] && [ ! -d "$target" ]; then fail "$target on the share is not a directory"; fi
  if [ -L "$local_path" ]; then
    if [ "$(readlink -- "$local_path")" = "$target" ]; then continue; fi
    rm -f -- "$local_path"
  elif [ -e "$local_path" ]; then
    bak="$local_path.bak"
    n=1
    while [ -e "$bak" ] || [ -L "$bak" ]; do bak="$local_path.bak.$n"; n=$((n + 1)); done
    mv -- "$local_path" "$bak"
    log "kept the original $rel as $(basename -- "$bak")"
  fi
  mkdir -p -- "$(dirname -- "$local_path")"
  ln -sfn -- "$target" "$local_path"
  if user_exists; then chown -h -- "$SERVICE_USER:" "$local_path"; fi
  log "linked $rel -> $target"
done
`;

/** Once per machine identity: a re-run on the same machine keeps what the app regenerated. */
const CLONE_STEP = sh`step "give this clone its own identity"
mkdir -p -- "$STATE_DIR"
cleared_for=""
if [ -f "$STATE_DIR/clone-identity" ]; then cleared_for=$(<"$STATE_DIR/clone-identity"); fi
if [ "$cleared_for" != "$NODE_ID" ]; then
  for rel in "\${DELETE_ON_CLONE[@]}"; do
    rm -rf -- "\${INSTALL_DIR:?}/$rel"
    log "deleted $rel"
  done
  printf '%s\n' "$NODE_ID" | install_file "$STATE_DIR/clone-identity" 0644
fi
`;

function vipStep(vip: string): string {
  const sysctl = 'net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.all.arp_announce = 2\nnet.ipv4.conf.lo.arp_ignore = 1\nnet.ipv4.conf.lo.arp_announce = 2\n';
  const unit = `[Unit]
Description=failover-guard: load balancer VIP on lo (floating IP / direct server return)
After=network-pre.target
Before=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/ip addr replace ${vip}/32 dev lo

[Install]
WantedBy=multi-user.target
`;
  return `step "put the load balancer VIP on lo"
LOOPBACK_VIP=${shQuote(vip)}
# answer ARP only for addresses on the receiving interface, announce only the best source
${shHeredoc('install_file "$SYSCTL_FILE" 0644', sysctl)}
sysctl -p "$SYSCTL_FILE"
ip addr replace "$LOOPBACK_VIP/32" dev lo
# the address is gone after a reboot unless a unit puts it back
${shHeredoc(`install_file "$UNIT_DIR"/${shQuote(LINUX.vipUnit)} 0600`, unit)}
systemctl daemon-reload
systemctl enable ${shQuote(LINUX.vipUnit)}
`;
}

function guardBinaryStep(ctx: BootContext): string {
  const bin = ctx.guardBinary;
  const download =
    bin.kind === 's3'
      ? `GUARD_S3_URI=${shQuote(`s3://${bin.bucket}/${bin.key}`)}
GUARD_S3_REGION=${shQuote(bin.region)}
` +
        sh`  command -v aws >/dev/null 2>&1 || fail "the aws CLI is needed to download $GUARD_S3_URI (Amazon Linux 2023 has it); install it first"
  # the CLI signs with the instance role, whose credentials it reads through IMDSv2
  aws s3 cp --only-show-errors --region "$GUARD_S3_REGION" "$GUARD_S3_URI" "$download"`
      : `GUARD_BLOB_URL=${shQuote(bin.url)}
` +
        sh`  storage_token=$(imds_token 'https://storage.azure.com/')
  curl -fsS --retry 5 -H 'x-ms-version: 2020-10-02' -H "Authorization: Bearer $storage_token" -o "$download" "$GUARD_BLOB_URL"
  unset storage_token`;
  const [vars, body] = splitFirstIndented(download);
  return `step "install the guard binary"
${vars}` + sh`if [ -f "$GUARD_BIN" ] && printf '%s  %s\n' "$GUARD_SHA256" "$GUARD_BIN" | sha256sum -c --status -; then
  log "guard binary already installed ($GUARD_BIN)"
else
  mkdir -p -- "$(dirname -- "$GUARD_BIN")"
  download="$GUARD_BIN.download"
  rm -f -- "$download"
${body}
  printf '%s  %s\n' "$GUARD_SHA256" "$download" | sha256sum -c --quiet - || fail "the downloaded guard binary does not match its SHA-256"
  # rename, not overwrite: a running guard keeps its old file until it restarts
  chmod 0755 -- "$download"
  mv -f -- "$download" "$GUARD_BIN"
  log "installed $GUARD_BIN"
fi
`;
}

/** Splits variable assignments (unindented) from the indented body lines. */
function splitFirstIndented(text: string): [string, string] {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.startsWith('  '));
  return [lines.slice(0, first).join('\n') + '\n', lines.slice(first).join('\n')];
}

function guardConfigStep(spec: ClusterSpec, ctx: BootContext): string {
  return `step "write the guard config"
mkdir -p -- "$GUARD_CONFIG_DIR"
chmod 0700 -- "$GUARD_CONFIG_DIR"
${shHeredoc('install_file "$GUARD_CONFIG" 0600', guardConfigText(spec, ctx))}
`;
}

function guardUnitStep(spec: ClusterSpec, ctx: BootContext): string {
  const g = spec.guard;
  // stopping the guard drains /health, stops the app and releases the lease
  const stopTimeout = Math.ceil(g.drainSecs + g.stopTimeoutSecs + 15);
  const mount = usesShare(spec) ? `RequiresMountsFor=${ctx.mountPoint ?? LINUX.defaultMountPoint}\n` : '';
  const unit = `[Unit]
Description=failover-guard: keeps at most one ${oneLine(spec.profile.displayName).replace(/%/g, '%%')} node of cluster ${spec.name} active
Wants=network-online.target
After=network-online.target remote-fs.target
${mount}
[Service]
Type=simple
ExecStart=${LINUX.guardBinary} run --config ${LINUX.guardConfig}
Restart=always
RestartSec=2
TimeoutStopSec=${stopTimeout}

[Install]
WantedBy=multi-user.target
`;
  const dropIn = `# failover-guard starts this service on the active node only; it stops when the guard stops or dies.
[Unit]
BindsTo=${LINUX.guardUnit}
After=${LINUX.guardUnit}
PartOf=${LINUX.guardUnit}
`;
  return `step "install the guard service"
${shHeredoc(`install_file "$UNIT_DIR"/${shQuote(LINUX.guardUnit)} 0600`, unit)}
${shHeredoc(`install_file "$UNIT_DIR/$APP_UNIT.d/failover-guard.conf" 0600`, dropIn)}
systemctl daemon-reload
# the guard starts the app on the active node; it must not start on its own at boot
systemctl disable -- "$APP_UNIT"
systemctl enable --now ${shQuote(LINUX.guardUnit)}
`;
}

/** `dns` clusters: every node runs the app. */
const APP_SERVICE_STEP = sh`step "start the app service"
systemctl enable --now -- "$APP_UNIT"
`;
