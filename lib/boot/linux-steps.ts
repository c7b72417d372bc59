import type { ClusterSpec } from '../spec/cluster-spec';
import { GUARD_HEALTH_PATH } from '../contracts/guard-endpoints';
import { appDropInSettings, guardUnitSettings } from '../guard/platform/systemd/unit-contract';
import { assertNever, type BootContext } from './context';
import type { ReplacementWatch } from './platform';
import { LINUX, oneLine, guardConfigText, guardNode, shareOf, smbSecretRef, usesImds, usesShare } from './plan';
import { sh, shArray, shHeredoc, shQuote } from './quote';
import { secretSchemeOf } from '../contracts/secret-reference';
import { PASSIVE_LEAVE_SECS } from '../contracts/timing';

/** NFS 4.1 options AWS and Azure both recommend (large blocks, hard mounts, new source port on reconnect). */
export const NFS_OPTIONS = ['nfsvers=4.1', 'rsize=1048576', 'wsize=1048576', 'hard', 'timeo=600', 'retrans=2', 'noresvport'];
/** Every share: wait for the network, mount on first access (systemd automount). */
const COMMON_OPTIONS = ['_netdev', 'x-systemd.automount'];

/** `VAR="${FG_ROOT}"'/abs/path'`: a production path under the overridable root. */
export const rooted = (path: string): string => `"\${FG_ROOT}"${shQuote(path)}`;

/** Python parses JSON (secrets, tokens): present on every cloud image, installed otherwise. */
export function usesJson(spec: ClusterSpec, ctx: BootContext): boolean {
  return usesImds(spec, ctx) || (usesShare(spec) && shareOf(ctx).kind === 'smb');
}

/**
 * The guard (or, for dns clusters, every node) runs the app's own service: without it the
 * first boot would fail late on `systemctl disable` with systemd's terse message. Checked
 * first, so a stock image changes nothing and the log says what to pass.
 */
export const APP_UNIT_CHECK_STEP = sh`step "check the app is installed"
systemctl daemon-reload
app_load_state=$(systemctl show -p LoadState --value -- "$APP_UNIT" 2>/dev/null || true)
if [ -z "$app_load_state" ] || [ "$app_load_state" = not-found ]; then
  fail "the app's service $APP_UNIT is not installed on this image: boot an image that has the app (imageId on AWS, image on Azure) or install it at first boot with installCommands"
fi
log "app service $APP_UNIT: $app_load_state"
`;

/** Package names per package-manager family. */
function packages(spec: ClusterSpec, ctx: BootContext): { rpm: string[]; deb: string[] } {
  const json = usesJson(spec, ctx) ? ['python3'] : [];
  if (shareOf(ctx).kind === 'smb') return { rpm: ['cifs-utils', ...json], deb: ['cifs-utils', ...json] };
  return { rpm: ['nfs-utils', ...json], deb: ['nfs-common', ...json] };
}

/**
 * amazon-efs-utils release built on Debian/Ubuntu, whose archives do not carry it (Amazon
 * Linux has it in its repositories). Pinned, so every node runs the same helper.
 */
export const EFS_UTILS_VERSION = 'v2.4.1';

export function installPackagesStep(spec: ClusterSpec, ctx: BootContext): string {
  const { rpm, deb } = packages(spec, ctx);
  return `step "install share client tools"
PACKAGES_RPM=${shArray(rpm)}
PACKAGES_DEB=${shArray(deb)}
` + APT_GET + sh`if command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
  if command -v dnf >/dev/null 2>&1; then pm=dnf; else pm=yum; fi
  if ! rpm -q "\${PACKAGES_RPM[@]}" >/dev/null 2>&1; then "$pm" -y install "\${PACKAGES_RPM[@]}"; fi
elif command -v apt-get >/dev/null 2>&1; then
  if ! dpkg -s "\${PACKAGES_DEB[@]}" >/dev/null 2>&1; then
    retry apt_get update
    apt_get install -y "\${PACKAGES_DEB[@]}"
  fi
else
  fail "no package manager found (dnf, yum or apt-get)"
fi
` + (shareOf(ctx).kind === 'efs' ? efsUtilsInstall() : '');
}

/**
 * apt-get that waits (up to 10 min) for the dpkg lock instead of failing: on Ubuntu,
 * unattended-upgrades and cloud-init's own package step hold it during the first boot.
 * `DPkg::Lock::Timeout` covers dpkg's lock only, not `update`'s lists lock (held by
 * apt-daily.service at first boot): `update` runs under `retry`.
 */
const APT_GET = sh`apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=5 "$@"; }
`;

/**
 * The EFS mount helper (TLS): from the repositories on Amazon Linux, built from the pinned
 * release on Debian/Ubuntu (apt's own package first, when a repository offers one). Anything
 * else fails here: plain NFS would be refused by the file system's TLS-only policy anyway.
 */
function efsUtilsInstall(): string {
  return `EFS_UTILS_VERSION=${shQuote(EFS_UTILS_VERSION)}
` + sh`if ! command -v mount.efs >/dev/null 2>&1; then
  if command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
    "$pm" -y install amazon-efs-utils || log "amazon-efs-utils is not in this image's repositories"
  elif command -v apt-get >/dev/null 2>&1; then
    if apt-cache show amazon-efs-utils >/dev/null 2>&1; then
      apt_get install -y amazon-efs-utils
    else
      log "building amazon-efs-utils $EFS_UTILS_VERSION (not in the Debian/Ubuntu archives)"
      apt_get install -y git binutils cargo pkg-config libssl-dev stunnel4 python3
      efs_build=$(mktemp -d)
      git clone --quiet --depth 1 --branch "$EFS_UTILS_VERSION" https://github.com/aws/efs-utils "$efs_build/efs-utils"
      (cd "$efs_build/efs-utils" && ./build-deb.sh)
      apt_get install -y "$efs_build"/efs-utils/build/amazon-efs-utils*.deb
      rm -rf -- "$efs_build"
    fi
  fi
  command -v mount.efs >/dev/null 2>&1 || fail "amazon-efs-utils (mount.efs) could not be installed; EFS accepts TLS mounts only: use an image that has it (imageId) or install it with installCommands"
fi
`;
}

/** Fetches the SMB user/password secret at boot into a root-only credentials file. */
export function smbCredentialsStep(spec: ClusterSpec, ctx: BootContext): string {
  const ref = smbSecretRef(spec, ctx) as string; // checked: required for SMB on Linux
  const scheme = secretSchemeOf(ref);
  const target = ref.slice(ref.indexOf(':') + 1);
  let fetch: string;
  switch (scheme) {
    case 'aws-secretsmanager':
      fetch = sh`command -v aws >/dev/null 2>&1 || fail "the aws CLI is needed to read the SMB credentials secret"
SECRET_REGION=$(printf '%s' "$SECRET_ID" | cut -d: -f4)
secret_json=$(retry aws secretsmanager get-secret-value --region "$SECRET_REGION" --secret-id "$SECRET_ID" --query SecretString --output text)`;
      break;
    case 'azure-keyvault':
      fetch = sh`kv_token=$(imds_token 'https://vault.azure.net')
secret_json=$(retry curl -fsS --retry 5 -H "Authorization: Bearer $kv_token" "$SECRET_ID?api-version=7.4" | json_field value)
unset kv_token`;
      break;
    case 'file':
      fetch = sh`secret_json=$(<"$SECRET_ID")`;
      break;
    // checkBootInput refuses these for the SMB credentials (SECRET_PLACES['smb-credentials'])
    case 'env':
    case undefined:
      throw new Error(`the SMB credentials cannot be read from a ${scheme ?? 'reference without a scheme'} at boot`);
    default:
      return assertNever(scheme, 'secret scheme');
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

export function mountStep(ctx: BootContext): string {
  const share = shareOf(ctx);
  const extra = share.mountOptions ?? [];
  let source: string;
  switch (share.kind) {
    case 'efs':
    // Only the EFS helper mounts over TLS, and the file-system policy denies everything else.
    source = `SHARE_SOURCE=${shQuote(`${share.fileSystemId}:/`)}
SHARE_TYPE=efs
SHARE_OPTIONS=${shQuote(['tls', ...COMMON_OPTIONS, ...extra].join(','))}`;
      break;
    case 'nfs':
    source = `SHARE_SOURCE=${shQuote(share.address)}
SHARE_TYPE=nfs4
SHARE_OPTIONS=${shQuote([...NFS_OPTIONS, ...COMMON_OPTIONS, ...extra].join(','))}`;
      break;
    case 'smb': {
      const smbOptions = ['vers=3.1.1', 'serverino', 'mfsymlinks', 'dir_mode=0770', 'file_mode=0660', ...COMMON_OPTIONS, ...extra];
    source = `SHARE_SOURCE=${shQuote(share.address.replace(/\\/g, '/'))}
SHARE_TYPE=cifs
SHARE_OPTIONS=${shQuote(smbOptions.join(','))}
SHARE_OPTIONS="$SHARE_OPTIONS,credentials=$SMB_CREDENTIALS"
# files on an SMB share belong to whoever the mount says: the app's user
if user_exists; then SHARE_OPTIONS="$SHARE_OPTIONS,uid=$SERVICE_USER,gid=$(id -g -- "$SERVICE_USER")"; fi`;
      break;
    }
    default:
      return assertNever(share, 'share kind');
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
export const SEED_STEP = sh`step "seed the share"
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
export const LINK_STEP = sh`step "link the shared items"
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
export const CLONE_STEP = sh`step "give this clone its own identity"
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

export function vipStep(vip: string): string {
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
${shHeredoc(`install_file "$UNIT_DIR"/${shQuote(LINUX.vipUnit)} 0644`, unit)}
systemctl daemon-reload
systemctl enable ${shQuote(LINUX.vipUnit)}
`;
}

export function guardBinaryStep(ctx: BootContext): string {
  const { values: vars, download: body } = guardNode(ctx).guardBinary.linux();
  return `step "install the guard binary"
${vars}` + sh`if [ -f "$GUARD_BIN" ] && printf '%s  %s\n' "$GUARD_SHA256" "$GUARD_BIN" | sha256sum -c --status -; then
  log "guard binary already installed ($GUARD_BIN)"
else
  command -v gzip >/dev/null 2>&1 || fail "gzip is needed to unpack the guard binary; install it first"
  mkdir -p -- "$(dirname -- "$GUARD_BIN")"
  download="$GUARD_BIN.download.gz"
  unpacked="$GUARD_BIN.download"
  rm -f -- "$download" "$unpacked"
${body}
  # the cluster uploads the binary gzip-compressed; its SHA-256 is the binary's own
  gzip -dc -- "$download" >"$unpacked" || { rm -f -- "$unpacked"; fail "the downloaded guard binary is not a valid gzip file"; }
  rm -f -- "$download"
  printf '%s  %s\n' "$GUARD_SHA256" "$unpacked" | sha256sum -c --quiet - || { rm -f -- "$unpacked"; fail "the downloaded guard binary does not match its SHA-256"; }
  # rename, not overwrite: a running guard keeps its old file until it restarts
  chmod 0755 -- "$unpacked"
  mv -f -- "$unpacked" "$GUARD_BIN"
  log "installed $GUARD_BIN"
fi
`;
}

export function guardConfigStep(spec: ClusterSpec, ctx: BootContext): string {
  return `step "write the guard config"
mkdir -p -- "$GUARD_CONFIG_DIR"
chmod 0700 -- "$GUARD_CONFIG_DIR"
${shHeredoc('install_file "$GUARD_CONFIG" 0600', guardConfigText(spec, guardNode(ctx)))}
`;
}

/** A unit name inside an `Exec*=` line: systemd unescapes backslashes there. */
const execArg = (unit: string): string => unit.replace(/\\/g, '\\\\');

/**
 * The guard unit and the app's drop-in. The relations: on systemd 252 a
 * guard unit waiting to auto-restart is "activating", and `PartOf=`/`BindsTo=`/`Requisite=`
 * propagate the guard's stop and restart jobs to the app: the app is stopped before the guard
 * could drain, and restarted by systemd (not the guard) with whatever term it finds. Instead:
 * - the guard unit kills the app in `ExecStopPost=`, which runs whenever the guard's process ends —
 *   crash, kill, watchdog, stop — so the app never outlives its guard: SIGKILL to every process
 *   of the app's unit (a guard that ended without stopping its app can no longer prove its
 *   lease: a fence, never a graceful stop; after a planned stop the app is already gone and the
 *   kill finds nothing, hence `-`), then a stop job (`--no-block`: queued at once, before the
 *   guard's restart) so systemd does not restart the app by itself;
 * - nothing propagates from the guard to the app; the app reads the term from the file the guard
 *   writes for each start and removes on stop, so a start that is not the guard's fails;
 * - the app is ordered `Before=` the guard: at shutdown the guard stops first (drains, stops the
 *   app, releases the lease), then systemd's own stop of the app finds it stopped;
 * - `Type=notify` with `WatchdogSec=`: a stalled guard misses its pings and systemd kills it with
 *   SIGKILL (a stopped or frozen process never handles SIGABRT), then `ExecStopPost=` kills the app;
 * - the app's `TimeoutStopSec=` is the guard's stop timeout S, so systemd's own stop ends when the guard's does.
 */
export function guardUnits(spec: ClusterSpec, ctx: BootContext): { unit: string; dropIn: string } {
  const g = spec.guard;
  const app = spec.profile.serviceName;
  // stopping the guard drains /health, stops the app and releases the lease
  const stopTimeout = Math.ceil(g.drainSecs + g.stopTimeoutSecs + 15);
  const mount = usesShare(spec) ? `RequiresMountsFor=${ctx.mountPoint ?? LINUX.defaultMountPoint}\n` : '';
  // the settings the guard's systemd mode relies on (lib/guard/platform/systemd/unit-contract.ts), then the relations
  const lines = (settings: Array<[string, string]>) => settings.map(([k, v]) => `${k}=${v}`).join('\n');
  const dropInSettings = appDropInSettings(app, g);
  const envFile = dropInSettings.find(([k]) => k === 'EnvironmentFile')![1];
  const unit = `[Unit]
Description=failover-guard: keeps at most one ${oneLine(spec.profile.displayName).replace(/%/g, '%%')} node of cluster ${spec.name} active
Wants=network-online.target
After=network-online.target remote-fs.target
${mount}# never give up restarting: a node without its guard can never become active again
StartLimitIntervalSec=0

[Service]
${lines(guardUnitSettings(g))}
ExecStart=${LINUX.guardBinary} run --config ${LINUX.guardConfig}
WatchdogSignal=SIGKILL
ExecStopPost=-/bin/systemctl kill --signal=SIGKILL --kill-whom=all -- ${execArg(app)}
ExecStopPost=/bin/systemctl stop --no-block -- ${execArg(app)}
Restart=always
RestartSec=2
TimeoutStopSec=${stopTimeout}

[Install]
WantedBy=multi-user.target
`;
  const dropIn = `# failover-guard starts this service on the active node only, with the term in ${envFile};
# the guard unit kills it whenever the guard's process ends. Without that file it cannot start.
[Unit]
Before=${LINUX.guardUnit}

[Service]
${lines(dropInSettings)}
`;
  return { unit, dropIn };
}

export function guardUnitStep(spec: ClusterSpec, ctx: BootContext): string {
  const { unit, dropIn } = guardUnits(spec, ctx);
  return `step "install the guard service"
# units hold no secret; systemd warns on every reload about units it cannot show to everyone
${shHeredoc(`install_file "$UNIT_DIR"/${shQuote(LINUX.guardUnit)} 0644`, unit)}
${shHeredoc(`install_file "$UNIT_DIR/$APP_UNIT.d/failover-guard.conf" 0644`, dropIn)}
systemctl daemon-reload
# the guard starts the app on the active node; it must not start on its own at boot
systemctl disable -- "$APP_UNIT"
systemctl enable --now ${shQuote(LINUX.guardUnit)}
`;
}

/**
 * The rolling-update half that runs on the node: a watcher waits for the cloud's notice that
 * the node is being replaced (the platform's ReplacementWatch, e.g. a termination lifecycle
 * hook or a scheduled event). Then an active guard steps down (one planned handover), the guard
 * stops (drain, stop the app, release the lease), and the cloud is told the node may go.
 */
export function lifecycleWatcherStep(spec: ClusterSpec, replacement: ReplacementWatch): string {
  const cloud = replacement.linux();
  const watcher = `#!/bin/bash
# failover-guard lifecycle watcher for cluster ${spec.name}; written by the boot script.
set -u
export PATH="$PATH:/usr/local/bin:/usr/bin:/bin"
GUARD_PORT=${shQuote(String(spec.guard.port))}
GUARD_CONFIG=${shQuote(LINUX.guardConfig)}
GUARD_UNIT=${shQuote(LINUX.guardUnit)}
PASSIVE_LEAVE_SECS=${PASSIVE_LEAVE_SECS}
log() { printf 'failover-guard-lifecycle: %s\\n' "$*"; }
${cloud}
wait_for_notice
log "this node is being replaced"
` + sh`if curl -fsS -o /dev/null "http://127.0.0.1:$GUARD_PORT${GUARD_HEALTH_PATH}"; then
  # passive nodes replaced in the same batch leave first, so the lease goes to a new node
  sleep "$PASSIVE_LEAVE_SECS"
  log "this node is active: stepping down"
  failover-guard step-down --config "$GUARD_CONFIG" || log "step-down failed; stopping the guard releases the lease as well"
fi
# a graceful stop drains /health, stops the app and releases the lease
systemctl stop -- "$GUARD_UNIT"
let_it_go
log "handed over: the node may go"
`;
  const unit = `[Unit]
Description=failover-guard: hand over before the cloud replaces this node
Wants=network-online.target
After=network-online.target ${LINUX.guardUnit}

[Service]
Type=simple
ExecStart=${LINUX.lifecycleScript}
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
  return `step "install the lifecycle watcher"
LIFECYCLE_SCRIPT=${rooted(LINUX.lifecycleScript)}
${shHeredoc('install_file "$LIFECYCLE_SCRIPT" 0700', watcher)}
${shHeredoc(`install_file "$UNIT_DIR"/${shQuote(LINUX.lifecycleUnit)} 0644`, unit)}
systemctl daemon-reload
systemctl enable --now ${shQuote(LINUX.lifecycleUnit)}
`;
}

/** `dns` clusters: every node runs the app. */
export const APP_SERVICE_STEP = sh`step "start the app service"
systemctl enable --now -- "$APP_UNIT"
`;
