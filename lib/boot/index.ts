export type { BootContext, GuardBinarySource, ReplacementNotice, ShareMount } from './context';
export { shQuote, psQuote } from './quote';
export { renderLinuxBootScript, NFS_OPTIONS } from './linux';
export { LINUX as LINUX_PATHS, WINDOWS as WINDOWS_PATHS, SHARE_FILES, NO_SHARE, checkBootInput } from './plan';
export { renderWindowsBootScript, renderWindowsDnsNodeScript, type WindowsBootScriptOptions } from './windows';
export { coveringNetwork, thinprintSettingsProblems, type CoveringNetwork, type ThinPrintNodeSettings } from './thinprint-windows';
export { prependInstallCommands, installCommandProblems } from './install-commands';
export { papercutLinuxInstallCommands, PAPERCUT_MF_LINUX_INSTALLER } from './papercut-install';
