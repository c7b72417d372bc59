import { SERVICE_COMMAND_TIMEOUT_MS } from '../../../contracts/timing';
import { runCommand, type RunCommand } from '../../app/run-command';
import type { ServiceControl, ServiceState } from '../../app/service-supervisor';

/** sc.exe `query` output: `STATE : 4 RUNNING` (1 stopped, 2 start pending, 3 stop pending, 4 running, 5–7 continue/pause). */
export function windowsState(code: number, stdout: string): ServiceState {
  if (code !== 0) return { state: 'unknown', detail: `sc.exe query exit ${code}` };
  const state = /STATE\s*:\s*(\d+)/.exec(stdout)?.[1];
  if (state === undefined) return { state: 'unknown', detail: 'sc.exe query: no STATE' };
  if (state !== '1') return { state: 'running', detail: `state ${state}` };
  // WIN32_EXIT_CODE ≠ 0 after a stop that was not asked for: the service failed.
  const exit = /WIN32_EXIT_CODE\s*:\s*(\d+)/.exec(stdout)?.[1];
  const serviceExit = /SERVICE_EXIT_CODE\s*:\s*(\d+)/.exec(stdout)?.[1];
  const failed = (exit !== undefined && exit !== '0' && exit !== '1077') || (serviceExit !== undefined && serviceExit !== '0');
  return { state: failed ? 'failed' : 'stopped', detail: `stopped (exit ${exit ?? '?'}/${serviceExit ?? '?'})` };
}

/** sc.exe. */
export function windowsServiceControl(name: string, run: RunCommand = runCommand, commandTimeoutMs = SERVICE_COMMAND_TIMEOUT_MS): ServiceControl {
  const bound = (limitMs = commandTimeoutMs) => Math.max(1, Math.min(commandTimeoutMs, limitMs));
  const sc = (args: string[], limitMs?: number) => run(['sc.exe', ...args], { timeoutMs: bound(limitMs) });
  return {
    describe: name,
    start: async () => {
      const r = await sc(['start', name]);
      // 1056: already running
      if (r.code !== 0 && r.code !== 1056) throw new Error(`sc.exe start ${name} failed (exit ${r.code})`);
    },
    stop: async (limitMs) => {
      const r = await sc(['stop', name], limitMs);
      // 1062: not started
      if (r.code !== 0 && r.code !== 1062) throw new Error(`sc.exe stop ${name} failed (exit ${r.code})`);
    },
    state: async (limitMs) => {
      const r = await sc(['query', name], limitMs);
      return windowsState(r.code, r.stdout);
    },
    // the service's process and every process it started (/T, by the pid `sc queryex` names),
    // beside the service filter (which finds the process without that round trip), at once
    kill: async (limitMs) => {
      const tree = async () => {
        const q = await sc(['queryex', name], limitMs);
        const pid = Number(/PID\s*:\s*(\d+)/.exec(q.stdout)?.[1] ?? 0);
        return pid > 0 ? (await run(['taskkill.exe', '/F', '/T', '/PID', String(pid)], { timeoutMs: bound(limitMs) })).code : 128;
      };
      const [byPid, byFilter] = await Promise.all([tree(), run(['taskkill.exe', '/F', '/FI', `SERVICES eq ${name}`], { timeoutMs: bound(limitMs) }).then((r) => r.code)]);
      if (byPid !== 0 && byPid !== 128 && byFilter !== 0) throw new Error(`taskkill ${name} failed (exit ${byPid}/${byFilter})`);
    },
  };
}
