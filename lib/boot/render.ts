// TEMPORARY placeholder until the boot-script renderer lands; replaced at merge.
import type { ClusterSpec } from '../spec/cluster-spec';
import type { BootContext } from './context';

export function renderLinuxBootScript(spec: ClusterSpec, ctx: BootContext): string {
  return `#!/bin/bash\n# ${spec.name}\n# ${JSON.stringify(ctx)}\n`;
}

export function renderWindowsBootScript(spec: ClusterSpec, ctx: BootContext): string {
  return `<powershell>\n# ${spec.name}\n# ${JSON.stringify(ctx)}\n</powershell>\n`;
}
