/**
 * A control group of its own for each booted node. `systemd-nspawn --keep-unit --register=no`
 * (no systemd on the host) puts its container below the cgroup it was started in, always as
 * `<that cgroup>/payload`: every node started from one process would share one cgroup tree, so
 * a unit's cgroup (`/system.slice/fc-demo.service`) would be the same directory in every node
 * and one node's guard killing its app's cgroup (`cgroup.kill`) would kill every node's app. A
 * real machine has a kernel, so a cgroup tree, of its own: so does each node here.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from 'fs';
import { join } from 'path';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The hierarchies nspawn places a container in: the v2 tree (pure or hybrid's `unified/`) and v1's `name=systemd`; with this process's cgroup in each. */
function hierarchies(root = CGROUP_ROOT): { base: string; own: string }[] {
  let self = '';
  try {
    self = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return [];
  }
  const ownOf = (prefix: string) => self.split('\n').find((l) => l.startsWith(prefix))?.slice(prefix.length).trim();
  const found: { base: string; own: string }[] = [];
  const v2 = ownOf('0::');
  if (v2 !== undefined) {
    if (existsSync(join(root, 'cgroup.controllers'))) found.push({ base: root, own: v2 });
    else if (existsSync(join(root, 'unified', 'cgroup.controllers'))) found.push({ base: join(root, 'unified'), own: v2 });
  }
  const v1 = self.split('\n').map((l) => /^\d+:name=systemd:(.*)$/.exec(l)?.[1]).find((p) => p !== undefined);
  if (v1 !== undefined && existsSync(join(root, 'systemd', 'cgroup.procs'))) found.push({ base: join(root, 'systemd'), own: v1 });
  return found;
}

/** One node's cgroup in every hierarchy, made below this process's own cgroup. */
export class NodeCgroup {
  readonly dirs: string[];

  constructor(name: string, root = CGROUP_ROOT) {
    this.dirs = hierarchies(root).map((h) => join(h.base, h.own, name));
  }

  /**
   * `cmd` wrapped in a shell that moves itself into the node's cgroups, then execs it (same pid,
   * so the caller's process handle is the command's). Unchanged where no cgroup can be made.
   */
  wrap(cmd: string, args: readonly string[]): { cmd: string; args: string[] } {
    for (const d of this.dirs) mkdirSync(d, { recursive: true });
    if (!this.dirs.length) return { cmd, args: [...args] };
    const moves = this.dirs.map((_, i) => `echo $$ > "$${i + 1}/cgroup.procs" || exit 125`).join('; ');
    const n = this.dirs.length;
    return { cmd: '/bin/sh', args: ['-c', `${moves}; shift ${n}; exec "$@"`, 'node-cgroup', ...this.dirs, cmd, ...args] };
  }

  /** Removes the node's cgroups (deepest first; the node must be down). Returns those still there. */
  remove(): string[] {
    const left: string[] = [];
    const rmTree = (dir: string): void => {
      if (!existsSync(dir)) return;
      for (const e of readdirSync(dir)) {
        const sub = join(dir, e);
        if (statSync(sub).isDirectory()) rmTree(sub);
      }
      try {
        rmdirSync(dir);
      } catch {
        left.push(`cgroup ${dir}`);
      }
    };
    for (const d of this.dirs) rmTree(d);
    return left;
  }
}
