import type { ClusterSpec } from '../spec/cluster-spec';
import { guardSettings, renderProperties } from '../contracts/guard-settings';
import { hookSettingProblems, hookSettings } from '../contracts/hook-settings';
import { ValidationError, type Problem } from '../problems/problems';
import { isUnresolved } from '../contracts/tokens';
import { secretReferenceProblem, secretSchemeOf } from '../contracts/secret-reference';
import type { BootContext, GuardNodeContext, ShareMount } from './context';
import { thinprintSettingsProblems } from './thinprint-windows';

/** Where things go on a Linux node (production paths; the script can prefix them with FG_ROOT). */
export const LINUX = {
  guardBinary: '/usr/local/bin/failover-guard',
  guardConfigDir: '/etc/failover-guard',
  guardConfig: '/etc/failover-guard/guard.properties',
  smbCredentials: '/etc/failover-guard/smb-credentials',
  unitDir: '/etc/systemd/system',
  guardUnit: 'failover-guard.service',
  vipUnit: 'failover-guard-vip.service',
  lifecycleUnit: 'failover-guard-lifecycle.service',
  lifecycleScript: '/usr/local/libexec/failover-guard-lifecycle',
  sysctlFile: '/etc/sysctl.d/90-failover-guard-vip.conf',
  fstab: '/etc/fstab',
  log: '/var/log/failover-guard-boot.log',
  stateDir: '/var/lib/failover-guard',
  defaultMountPoint: '/mnt/failover-share',
} as const;

/** Where things go on a Windows node. */
export const WINDOWS = {
  dataDir: 'C:\\ProgramData\\failover-guard',
  guardConfig: 'C:\\ProgramData\\failover-guard\\guard.properties',
  guardBinary: 'C:\\Program Files\\failover-guard\\failover-guard.exe',
  guardService: 'failover-guard',
  /** WinSW, written by `failover-guard service-host`; its XML sits beside it. */
  serviceHost: 'C:\\Program Files\\failover-guard\\failover-guard-service.exe',
  /** The guard's TEMP (pid and watch files), set in the service host's XML. */
  guardTempDir: 'C:\\ProgramData\\failover-guard\\run',
  log: 'C:\\ProgramData\\failover-guard\\boot.log',
  defaultDrive: 'S:',
} as const;

/** Files on the share that coordinate seeding between nodes. */
export const SHARE_FILES = { lock: '.failover-seed.lock', seeded: '.failover-seeded' } as const;

/** Free text (a display name) for a comment or a unit's Description: one line, no control characters. */
export const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f]+/g, ' ');

/** The share is only mounted when something lives on it. */
export const usesShare = (spec: ClusterSpec): boolean => spec.sharedItems.length > 0;
/** `dns` clusters (ThinPrint) run every node active and have no guard. */
export const usesGuard = (spec: ClusterSpec): boolean => spec.profile.failoverMode === 'guard';
/** The VIP on the loopback only matters with floating IP / direct server return. */
export const loopbackVip = (spec: ClusterSpec, ctx: BootContext): string | undefined =>
  spec.loadBalancer.floatingIp ? ctx.loopbackVip : undefined;

/**
 * The guarded node's context. Only for what runs when the spec uses the guard: checkBootInput
 * has made sure the context's mode is the profile's.
 */
export function guardNode(ctx: BootContext): GuardNodeContext {
  if (ctx.mode !== 'guard') throw new Error('a guard step needs a guard node context (checkBootInput checks the mode first)');
  return ctx;
}

/** The share. Only for what runs when the spec has shared items: checkBootInput requires it then. */
export function shareOf(ctx: BootContext): ShareMount {
  if (ctx.share === undefined) throw new Error('a share step needs the context\'s share (checkBootInput requires it with shared items)');
  return ctx.share;
}

/** Tokens from the Azure-style instance metadata service: a guard download or a Key Vault secret. */
export function usesImds(spec: ClusterSpec, ctx: BootContext): boolean {
  const download = usesGuard(spec) && guardNode(ctx).guardBinary.usesImdsToken;
  const keyVault = usesShare(spec) && shareOf(ctx).kind === 'smb' && secretSchemeOf(smbSecretRef(spec, ctx)) === 'azure-keyvault';
  const thinprintKeys = spec.profile.app === 'thinprint' && secretSchemeOf(ctx.thinprint?.clientKeysSecretRef) === 'azure-keyvault';
  return download || keyVault || thinprintKeys;
}

/** The user-assigned identity to ask IMDS for. @default - the VM's system identity */
export const managedIdentityClientId = (ctx: BootContext): string | undefined => ctx.platform.managedIdentityClientId;

/** The guard's properties file: the spec's settings, then the construct's extras. */
export function guardConfigText(spec: ClusterSpec, ctx: GuardNodeContext): string {
  const entries = [...guardSettings(spec, ctx.database), ...hookSettings(spec, ctx.app), ...(ctx.extraGuardSettings ?? [])];
  return renderProperties(entries, `failover-guard config for cluster ${spec.name}; written by the boot script.\nThe database password is read from database.password-source, never stored here.`);
}

/** The SMB credentials secret: the context's (the construct knows it), else the spec's. */
export function smbSecretRef(spec: ClusterSpec, ctx: BootContext): string | undefined {
  return (ctx.share?.kind === 'smb' ? ctx.share.credentialsSecretRef : undefined) ?? spec.storage.credentialsSecretRef;
}

/**
 * True when `value` is known now and does not match `pattern`. A deploy-time value (a cdktf
 * token, later an EFS id or bucket name filled in by Terraform) cannot be checked here; the
 * construct that made it vouches for its shape, and quoting still keeps it literal.
 */
export const mismatch = (pattern: RegExp, value: string): boolean => !isUnresolved(value) && !pattern.test(value);

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const SHARE_KINDS: ReadonlyArray<ShareMount['kind']> = ['nfs', 'efs', 'smb'];
const MOUNT_OPTION = /^[A-Za-z0-9_.=:/@+-]+$/;

/**
 * Everything a renderer needs to be true of spec + context, checked before anything is
 * rendered; one ValidationError lists every problem with the field it concerns.
 */
export function checkBootInput(spec: ClusterSpec, ctx: BootContext, os: 'linux' | 'windows'): void {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  if (spec.profile.os !== os) add('profile.os', `is "${spec.profile.os}"; use the ${spec.profile.os} renderer`);
  problems.push(...bootSpecProblems(spec, os));
  if (ctx.mode !== spec.profile.failoverMode) add('mode', `is "${ctx.mode}" but the profile's failoverMode is "${spec.profile.failoverMode}"`);
  if (usesShare(spec) && ctx.share === undefined) add('share', 'is required: the spec has shared items');
  // the rest reads the context as the mode and the spec's shared items say it is
  if (problems.length > 0) throw new ValidationError('boot script input', problems);
  const share = usesShare(spec) ? shareOf(ctx) : undefined;
  if (share !== undefined) shareProblems(spec, ctx, share, os, add);
  if (share !== undefined && (share.kind === 'smb') !== (spec.storage.kind === 'smb')) {
    add('share.kind', `is "${share.kind}" but the spec's storage.kind is "${spec.storage.kind}"`);
  }
  if (ctx.mode === 'guard') {
    const specKeys = new Set(guardSettings(spec, ctx.database).map(([key]) => key));
    (ctx.extraGuardSettings ?? []).forEach(([key], i) => {
      if (specKeys.has(key)) add(`extraGuardSettings[${i}]`, `"${key}" is already set from the spec`);
    });
    if (mismatch(/^[0-9a-fA-F]{64}$/, ctx.guardBinary.sha256)) add('guardBinary.sha256', 'must be 64 hex digits (SHA-256)');
    problems.push(...ctx.guardBinary.problems());
  }
  if (ctx.platform.managedIdentityClientId !== undefined && mismatch(/^[0-9a-fA-F-]{36}$/, ctx.platform.managedIdentityClientId)) {
    add('platform.managedIdentityClientId', 'must be a client id (GUID)');
  }
  appProblems(spec, ctx).forEach((p) => add(p.path, p.message));
  const vip = loopbackVip(spec, ctx);
  if (spec.loadBalancer.floatingIp && vip === undefined) add('loopbackVip', 'is required when loadBalancer.floatingIp is on');
  if (vip !== undefined && mismatch(IPV4, vip)) add('loopbackVip', 'must be an IPv4 address');
  problems.push(...thinprintSettingsProblems(spec, ctx.thinprint));
  if (problems.length > 0) throw new ValidationError('boot script input', problems);
}

/** The app side: what the hooks and the client-config step need from the construct. */
function appProblems(spec: ClusterSpec, ctx: BootContext): Problem[] {
  const problems: Problem[] = ctx.mode === 'guard' ? hookSettingProblems(spec, ctx.app) : [];
  const address = ctx.app?.networkAddress;
  if (spec.profile.clientConfigDir && address === undefined && !problems.some((p) => p.path === 'app.networkAddress')) {
    problems.push({ path: 'app.networkAddress', message: 'is required: the user client config points at the load balancer' });
  }
  if (address !== undefined && mismatch(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, address)) {
    problems.push({ path: 'app.networkAddress', message: 'must be a DNS name or IP address' });
  }
  return problems;
}

function shareProblems(spec: ClusterSpec, ctx: BootContext, share: ShareMount, os: 'linux' | 'windows', add: (path: string, message: string) => void): void {
  // a kind from a newer construct must not fall through to another kind's mount
  if (!SHARE_KINDS.includes(share.kind)) add('share.kind', `is "${String(share.kind)}"; must be one of ${SHARE_KINDS.map((k) => `"${k}"`).join(', ')}`);
  if (os === 'windows' && share.kind !== 'smb') add('share.kind', 'Windows nodes mount the share over SMB; use "smb"');
  if (share.kind === 'nfs' && mismatch(/^[A-Za-z0-9.-]+:\/[^\s,'"`$\\]*$/, share.address)) add('share.address', 'must be "host:/path" without spaces or quotes');
  if (share.kind === 'smb' && mismatch(/^(\/\/|\\\\)[A-Za-z0-9.-]+([/\\][^\s,'"`$/\\]+)+$/, share.address)) {
    add('share.address', 'must be "//host/share" (or \\\\host\\share) without spaces or quotes');
  }
  if (share.kind === 'efs') {
    if (mismatch(/^fs-[0-9a-f]{8,40}$/, share.fileSystemId)) add('share.fileSystemId', 'must be an EFS id such as "fs-0123456789abcdef0"');
    if (mismatch(/^[a-z]{2}(-[a-z]+)+-\d+$/, share.region)) add('share.region', 'must be an AWS region such as "eu-west-1"');
  }
  (share.mountOptions ?? []).forEach((o, i) => {
    if (mismatch(MOUNT_OPTION, o)) add(`share.mountOptions[${i}]`, 'must be one mount option (letters, digits, _.=:/@+-)');
  });
  if (os === 'linux' && ctx.mountPoint !== undefined && mismatch(/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/, ctx.mountPoint)) {
    add('mountPoint', 'must be an absolute path of letters, digits and ._-/ (it goes into /etc/fstab)');
  }
  if (os === 'windows' && ctx.windowsDrive !== undefined && mismatch(/^([D-Zd-z]:|\\\\[^\s'"`$]+)$/, ctx.windowsDrive)) {
    add('windowsDrive', 'must be a drive letter such as "S:" or a UNC root such as \\\\host\\share');
  }
  if (share.kind === 'smb') {
    const ref = smbSecretRef(spec, ctx);
    if (ref === undefined && os === 'linux') add('share.credentialsSecretRef', 'is required for SMB on Linux (or set storage.credentialsSecretRef)');
    const problem = ref === undefined ? undefined : secretReferenceProblem(ref, 'smb-credentials');
    if (problem !== undefined) add('share.credentialsSecretRef', problem);
  }
}

/**
 * What the boot script needs of the spec alone, whatever the context: a Linux service that is a
 * systemd unit, Windows paths it can quote. A cluster reports these before it builds anything.
 */
export function bootSpecProblems(spec: ClusterSpec, os: 'linux' | 'windows'): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  if (os === 'linux' && mismatch(/^[A-Za-z0-9:_.@\\-]+\.(service)$/, spec.profile.serviceName)) {
    add('profile.serviceName', 'must be a systemd service unit name such as "pc-app-server.service"');
  }
  if (os === 'windows') windowsPathProblems(spec, add);
  return problems;
}

/** Windows file names never contain `"` (the links reach `cmd /c mklink` inside double quotes) nor control characters. */
function windowsPathProblems(spec: ClusterSpec, add: (path: string, message: string) => void): void {
  const bad = /["\u0000-\u001f]/;
  if (bad.test(spec.profile.installDir)) add('profile.installDir', 'must be a Windows path: no double quote or control character');
  spec.sharedItems.forEach((item, i) => {
    if (bad.test(item.path)) add(`sharedItems[${i}].path`, 'must be a Windows path: no double quote or control character');
  });
}
