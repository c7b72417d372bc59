import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RoleChange } from './elector';
import type { Role } from './store';
import { GUARD_HEALTH_PATH } from '../spec/guard-endpoints';

const ROLES: readonly Role[] = ['passive', 'starting', 'active', 'draining', 'fenced', 'backoff', 'maintenance', 'standalone', 'stopped'];

/** The guard's Prometheus metrics, on their own registry (nothing global). */
export class GuardMetrics {
  readonly registry = new Registry();
  private readonly role = new Gauge({ name: 'failover_guard_role', help: '1 for the role this node is in', labelNames: ['role'], registers: [this.registry] });
  private readonly term = new Gauge({ name: 'failover_guard_term', help: 'Lease term (fencing token) held or last seen', registers: [this.registry] });
  private readonly renew = new Histogram({
    name: 'failover_guard_renew_seconds',
    help: 'Duration of successful lease renews',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly failovers = new Counter({ name: 'failover_guard_became_active_total', help: 'Times this node won the lease', registers: [this.registry] });
  readonly healthProbes = new Counter({ name: 'failover_guard_health_probes_total', help: `GET ${GUARD_HEALTH_PATH} requests served (from memory)`, labelNames: ['code'], registers: [this.registry] });

  constructor(statements: () => number) {
    // process_* (resident memory, CPU, open fds) and nodejs_* (heap, event-loop lag), so
    // operators can watch the guard's footprint
    collectDefaultMetrics({ register: this.registry });
    new Counter({
      name: 'failover_guard_db_statements_total',
      help: 'Statements this guard sent to the database',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(statements());
      },
    });
    this.setRole('passive');
  }

  setRole(role: Role): void {
    for (const r of ROLES) this.role.set({ role: r }, r === role ? 1 : 0);
  }

  onChange(change: RoleChange): void {
    this.setRole(change.role);
    this.term.set(change.term);
    if (change.event === 'became-active') this.failovers.inc();
  }

  onRenew(ms: number): void {
    this.renew.observe(ms / 1000);
  }
}
