// TEMPORARY (aws branch): stands in for the boot-script renderers until the boot issue lands;
// the lead replaces this file with the real renderers at merge and updates the snapshots.
import type { ClusterSpec } from '../spec/cluster-spec';
import type { BootContext } from './context';

/** Placeholder: a bash script that only records what the real renderer will receive. */
export function renderLinuxBootScript(spec: ClusterSpec, ctx: BootContext): string {
  return `#!/bin/bash\nset -euo pipefail\n# placeholder boot script for ${spec.name}\ncat >/var/log/failover-boot-context.json <<'JSON'\n${JSON.stringify(ctx)}\nJSON\n`;
}

/** Placeholder: a PowerShell script that only records what the real renderer will receive. */
export function renderWindowsBootScript(spec: ClusterSpec, ctx: BootContext): string {
  return `$ErrorActionPreference = 'Stop'\n# placeholder boot script for ${spec.name}\nSet-Content -Path C:\\failover-boot-context.json -Value @'\n${JSON.stringify(ctx)}\n'@\n`;
}
