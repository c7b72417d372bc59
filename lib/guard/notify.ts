import { spawn } from 'child_process';
import type { Log } from './log';
import type { RoleChange } from './election/elector';

/** Env for notify.command: the event, term, node and cluster (no secrets). */
export function notifyEnv(change: RoleChange, cluster: string, node: string): Record<string, string> {
  return {
    FAILOVER_GUARD_EVENT: change.event,
    FAILOVER_GUARD_ROLE: change.role,
    FAILOVER_GUARD_TERM: String(change.term),
    FAILOVER_GUARD_NODE: node,
    FAILOVER_GUARD_CLUSTER: cluster,
    ...(change.detail ? { FAILOVER_GUARD_DETAIL: change.detail } : {}),
  };
}

/** Runs notify.command for a role change, in the background (never delays the election), killed after 30 s. */
export function runNotify(command: string, change: RoleChange, cluster: string, node: string, log: Log): void {
  const child = spawn(command, { shell: true, stdio: 'ignore', env: { ...process.env, ...notifyEnv(change, cluster, node) } });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
  timer.unref();
  child.on('error', (e) => log.warn({ err: String(e) }, 'notify.command failed to start'));
  child.on('exit', (code) => {
    clearTimeout(timer);
    if (code !== 0) log.warn({ code, event: change.event }, 'notify.command failed');
  });
}
