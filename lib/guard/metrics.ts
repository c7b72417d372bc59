import { readdirSync, readFileSync } from 'fs';
import type { RoleChange } from './election/elector';
import type { Role } from './election/roles';
import { GUARD_HEALTH_PATH } from '../contracts/guard-endpoints';

const ROLES: readonly Role[] = ['passive', 'starting', 'active', 'draining', 'fenced', 'backoff', 'maintenance', 'standalone', 'stopped'];
const RENEW_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
const PROBE_CODES = ['200', '503'] as const;

/** Prometheus text exposition format (version 0.0.4). */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** `# HELP` and `# TYPE` lines of one metric family. */
function family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

/** Seconds with at most microsecond digits (Prometheus reads any float). */
function num(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Math.round(x * 1e6) / 1e6);
}

/** `VmRSS`, `VmSize` and the open-file limit from /proc (Linux); undefined elsewhere. */
function procStatus(): { rssBytes?: number; virtualBytes?: number; maxFds?: number; openFds?: number } {
  if (process.platform !== 'linux') return {};
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string) => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return { rssBytes: kb('VmRSS'), virtualBytes: kb('VmSize'), maxFds: limit ? Number(limit[1]) : undefined, openFds: readdirSync('/proc/self/fd').length };
  } catch {
    return {};
  }
}

/**
 * The guard's Prometheus metrics, written by hand rather than with a client library: the guard's
 * own families plus the `process_*` and `nodejs_*` ones operators watch the footprint with (the
 * names prom-client's default metrics use). A client library cost ≈9 MB of resident memory in a
 * daemon whose budget is 64 MB; this keeps a few numbers and renders them on scrape.
 * Nothing is allocated per /health probe: probe counts are two integers.
 */
export class GuardMetrics {
  private role: Role = 'passive';
  private term = 0;
  private becameActive = 0;
  private readonly probes: Record<(typeof PROBE_CODES)[number], number> = { '200': 0, '503': 0 };
  private readonly renewCounts = new Array<number>(RENEW_BUCKETS.length + 1).fill(0);
  private renewSum = 0;
  private readonly startedAt = Math.round(Date.now() / 1000 - process.uptime());

  /**
   * @param statements statements this guard sent to the database so far
   * @param gauges whether another live guard process beats under this node id, and whether a
   *   kill or stop of the app is not confirmed (it may still run)
   */
  constructor(
    private readonly statements: () => number,
    private readonly gauges: { readonly duplicateNodeId?: () => boolean; readonly appUnconfirmed?: () => boolean } = {},
  ) {}

  setRole(role: Role): void {
    this.role = role;
  }

  onChange(change: RoleChange): void {
    this.role = change.role;
    this.term = change.term;
    if (change.event === 'became-active') this.becameActive++;
  }

  onRenew(ms: number): void {
    const s = ms / 1000;
    let i = 0;
    while (i < RENEW_BUCKETS.length && s > RENEW_BUCKETS[i]) i++;
    this.renewCounts[i]++;
    this.renewSum += s;
  }

  /** Counts one /health answer (200 or 503). */
  onProbe(code: 200 | 503): void {
    this.probes[code === 200 ? '200' : '503']++;
  }

  /** The exposition text, rendered on each scrape. */
  render(): string {
    let out = family('failover_guard_role', 'gauge', '1 for the role this node is in');
    for (const r of ROLES) out += `failover_guard_role{role="${r}"} ${r === this.role ? 1 : 0}\n`;
    out += family('failover_guard_term', 'gauge', 'Lease term (fencing token) held or last seen') + `failover_guard_term ${this.term}\n`;
    out +=
      family('failover_guard_app_unconfirmed', 'gauge', '1 while a kill or stop of the app is not confirmed: it may still run, the node keeps killing and does not acquire') +
      `failover_guard_app_unconfirmed ${this.gauges.appUnconfirmed?.() ? 1 : 0}\n`;
    out += family('failover_guard_renew_seconds', 'histogram', 'Duration of successful lease renews');
    let cumulative = 0;
    RENEW_BUCKETS.forEach((le, i) => {
      cumulative += this.renewCounts[i];
      out += `failover_guard_renew_seconds_bucket{le="${le}"} ${cumulative}\n`;
    });
    cumulative += this.renewCounts[RENEW_BUCKETS.length];
    out += `failover_guard_renew_seconds_bucket{le="+Inf"} ${cumulative}\nfailover_guard_renew_seconds_sum ${num(this.renewSum)}\nfailover_guard_renew_seconds_count ${cumulative}\n`;
    out += family('failover_guard_became_active_total', 'counter', 'Times this node won the lease') + `failover_guard_became_active_total ${this.becameActive}\n`;
    out += family('failover_guard_health_probes_total', 'counter', `GET ${GUARD_HEALTH_PATH} requests served (from memory)`);
    for (const c of PROBE_CODES) out += `failover_guard_health_probes_total{code="${c}"} ${this.probes[c]}\n`;
    out +=
      family('failover_guard_duplicate_node_id', 'gauge', 'Another live guard process beats under this node id (1): its lease is never renewed or released by this one') +
      `failover_guard_duplicate_node_id ${this.gauges.duplicateNodeId?.() ? 1 : 0}\n`;
    out += family('failover_guard_db_statements_total', 'counter', 'Statements this guard sent to the database') + `failover_guard_db_statements_total ${this.statements()}\n`;
    return out + processMetrics(this.startedAt);
  }
}

/** `process_*` and `nodejs_*`: the guard's footprint (resident memory, CPU, file descriptors, V8 heap). */
function processMetrics(startedAt: number): string {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  const proc = procStatus();
  const gauge = (name: string, help: string, value: number | undefined) => (value === undefined ? '' : family(name, 'gauge', help) + `${name} ${num(value)}\n`);
  const counter = (name: string, help: string, value: number) => family(name, 'counter', help) + `${name} ${num(value)}\n`;
  return (
    counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', cpu.user / 1e6) +
    counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', cpu.system / 1e6) +
    counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', (cpu.user + cpu.system) / 1e6) +
    gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', startedAt) +
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', proc.rssBytes ?? mem.rss) +
    gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', proc.virtualBytes) +
    gauge('process_heap_bytes', 'Process heap size in bytes.', mem.heapTotal) +
    gauge('process_open_fds', 'Number of open file descriptors.', proc.openFds) +
    gauge('process_max_fds', 'Maximum number of open file descriptors.', proc.maxFds) +
    gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', mem.heapTotal) +
    gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', mem.heapUsed) +
    gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', mem.external) +
    family('nodejs_version_info', 'gauge', 'Node.js version info.') +
    `nodejs_version_info{version="${process.version}"} 1\n`
  );
}
