// The renderers (bash and PowerShell) land with the boot-script issue:
//   renderLinuxBootScript(spec: ClusterSpec, ctx: BootContext): string
//   renderWindowsBootScript(spec: ClusterSpec, ctx: BootContext): string
export * from './context';
export * from './render';
