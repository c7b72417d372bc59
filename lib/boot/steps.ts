import type { ClusterSpec } from '../spec/cluster-spec';
import type { BootContext } from './context';
import { guardNode, loopbackVip, usesGuard, usesShare } from './plan';
import * as app from './app-steps';
import * as linux from './linux-steps';
import * as windows from './windows-steps';
import { THINPRINT_IGMP_REBOOT_STEP, THINPRINT_PORT_CHECK_STEP, thinprintConfigureStep } from './thinprint-windows';
import { windowsLifecycleStep, windowsShutdownStep } from './windows-lifecycle';

export type BootOs = 'linux' | 'windows';

/** How one OS runs a step. */
export interface StepRendering {
  /**
   * What the step logs as it starts (`step "…"` in bash, `Invoke-Step '…'` in PowerShell).
   * @default - none: shell function definitions the following steps use, not a step
   */
  readonly title?: string;
  render(spec: ClusterSpec, ctx: BootContext): string;
}

/** One step of a node's first boot, on the OSes that run it. */
export interface BootStep {
  /** Stable name of the step (docs and tests refer to it). */
  readonly id: string;
  /** Whether the node runs the step; checked after {@link checkBootInput}. */
  when(spec: ClusterSpec, ctx: BootContext): boolean;
  readonly linux?: StepRendering;
  readonly windows?: StepRendering;
}

const always = (): boolean => true;
const withShare = (spec: ClusterSpec): boolean => usesShare(spec);
const smbShare = (spec: ClusterSpec, ctx: BootContext): boolean => usesShare(spec) && ctx.share?.kind === 'smb';
const withGuard = (spec: ClusterSpec): boolean => usesGuard(spec);
const thinprintDns = (spec: ClusterSpec): boolean => spec.profile.app === 'thinprint' && spec.profile.failoverMode === 'dns';
const hasAppSteps = (spec: ClusterSpec): boolean =>
  (spec.profile.disableServices ?? []).length > 0 || spec.profile.printDeploy !== undefined || spec.profile.clientConfigDir !== undefined;

/**
 * The node's steps in the order they run. A renderer keeps the steps its OS has and whose
 * `when` holds; docs/boot-scripts.md lists the same titles in the same order (checked by a test).
 */
export const BOOT_STEPS: readonly BootStep[] = [
  { id: 'check-app-installed', when: always, linux: { title: 'check the app is installed', render: () => linux.APP_UNIT_CHECK_STEP } },
  { id: 'keep-app-stopped', when: withGuard, windows: { title: 'keep the app stopped until the guard starts it', render: () => windows.APP_STOPPED_STEP } },
  { id: 'install-share-tools', when: withShare, linux: { title: 'install share client tools', render: linux.installPackagesStep } },
  {
    id: 'smb-credentials',
    when: smbShare,
    linux: { title: 'write the SMB credentials file', render: linux.smbCredentialsStep },
  },
  {
    id: 'mount-share',
    when: withShare,
    linux: { title: 'mount the share', render: (_spec, ctx) => linux.mountStep(ctx) },
    windows: { title: 'map the share', render: windows.mapShareStep },
  },
  {
    id: 'seed-share',
    when: withShare,
    linux: { title: 'seed the share', render: () => linux.SEED_STEP },
    windows: { title: 'seed the share', render: () => windows.SEED_STEP },
  },
  {
    id: 'link-shared-items',
    when: withShare,
    linux: { title: 'link the shared items', render: () => linux.LINK_STEP },
    windows: { title: 'link the shared items', render: () => windows.LINK_STEP },
  },
  {
    id: 'clone-identity',
    when: (spec) => spec.profile.deleteOnClone.length > 0,
    linux: { title: 'give this clone its own identity', render: () => linux.CLONE_STEP },
    windows: { title: 'give this clone its own identity', render: (_spec, ctx) => windows.cloneStep(ctx) },
  },
  { id: 'app-helpers', when: hasAppSteps, linux: { render: () => app.LINUX_APP_HELPERS } },
  {
    id: 'disable-services',
    when: (spec) => (spec.profile.disableServices ?? []).length > 0,
    linux: { title: 'disable printing and tracking services', render: app.linuxDisableServicesStep },
    windows: { title: 'disable printing and tracking services', render: app.windowsDisableServicesStep },
  },
  {
    id: 'print-deploy',
    when: (spec) => spec.profile.printDeploy !== undefined,
    linux: { title: 'make Print Deploy failover-aware', render: app.linuxPrintDeployStep },
    windows: { title: 'make Print Deploy failover-aware', render: app.windowsPrintDeployStep },
  },
  {
    id: 'client-config',
    when: (spec) => spec.profile.clientConfigDir !== undefined,
    linux: { title: 'point the user client at the load balancer', render: app.linuxClientConfigStep },
    windows: { title: 'point the user client at the load balancer', render: app.windowsClientConfigStep },
  },
  {
    id: 'loopback-vip',
    when: (spec, ctx) => loopbackVip(spec, ctx) !== undefined,
    linux: { title: 'put the load balancer VIP on lo', render: (spec, ctx) => linux.vipStep(loopbackVip(spec, ctx)!) },
    windows: { title: 'put the load balancer VIP on the loopback adapter', render: () => windows.VIP_STEP },
  },
  {
    id: 'thinprint-node',
    when: (spec) => spec.profile.app === 'thinprint',
    windows: { title: 'configure the ThinPrint Connection Service node', render: thinprintConfigureStep },
  },
  {
    id: 'firewall',
    when: always,
    windows: { title: 'open the firewall for the load balancer and the clients', render: (spec) => windows.firewallStep(spec, thinprintDns(spec)) },
  },
  {
    id: 'guard-binary',
    when: withGuard,
    linux: { title: 'install the guard binary', render: (_spec, ctx) => linux.guardBinaryStep(ctx) },
    windows: { title: 'install the guard binary', render: (_spec, ctx) => windows.guardBinaryStep(ctx) },
  },
  {
    id: 'guard-config',
    when: withGuard,
    linux: { title: 'write the guard config', render: linux.guardConfigStep },
    windows: { title: 'write the guard config', render: () => windows.GUARD_CONFIG_STEP },
  },
  {
    id: 'guard-service',
    when: withGuard,
    linux: { title: 'install the guard service', render: linux.guardUnitStep },
    windows: { title: 'install the guard service', render: () => windows.GUARD_SERVICE_STEP },
  },
  {
    id: 'lifecycle-watcher',
    when: (spec, ctx) => usesGuard(spec) && guardNode(ctx).replacement !== undefined,
    linux: { title: 'install the lifecycle watcher', render: (spec, ctx) => linux.lifecycleWatcherStep(spec, guardNode(ctx).replacement!) },
    windows: { title: 'install the lifecycle watcher', render: (spec, ctx) => windowsLifecycleStep(spec, guardNode(ctx).replacement!) },
  },
  {
    id: 'shutdown-handover',
    when: withGuard,
    windows: { title: 'hand over at OS shutdown (computer shutdown script)', render: windowsShutdownStep },
  },
  {
    id: 'app-service',
    when: (spec) => !usesGuard(spec),
    linux: { title: 'start the app service', render: () => linux.APP_SERVICE_STEP },
    windows: { title: 'start the app service', render: () => windows.APP_SERVICE_STEP },
  },
  { id: 'thinprint-port-check', when: thinprintDns, windows: { title: 'check the server port', render: () => THINPRINT_PORT_CHECK_STEP } },
  { id: 'thinprint-igmp-reboot', when: thinprintDns, windows: { title: 'reboot once for IGMPv2', render: () => THINPRINT_IGMP_REBOOT_STEP } },
];

/** The steps a node of this spec runs on its OS, in order. */
export function stepsFor(os: BootOs, spec: ClusterSpec, ctx: BootContext): StepRendering[] {
  return BOOT_STEPS.flatMap((step) => {
    const rendering = step[os];
    return rendering !== undefined && step.when(spec, ctx) ? [rendering] : [];
  });
}

/** The titles of every step an OS has (whatever the spec), in order: what the docs list. */
export const stepTitles = (os: BootOs): string[] => BOOT_STEPS.flatMap((step) => (step[os]?.title !== undefined ? [step[os]!.title!] : []));
