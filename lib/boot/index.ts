export * from './context';
export { shQuote, psQuote } from './quote';
export { renderLinuxBootScript, NFS_OPTIONS } from './linux';
export { LINUX as LINUX_PATHS, WINDOWS as WINDOWS_PATHS, SHARE_FILES, checkBootInput } from './plan';
export { renderWindowsBootScript, type WindowsBootScriptOptions } from './windows';
export { prependInstallCommands, installCommandProblems } from './install-commands';
