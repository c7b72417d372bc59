import { throwIfProblems, type Problem } from '../core/problems';
import { RENEW_JITTER, timingProblems, type GuardTimings, type TimingNames } from '../spec/timing';
import type { Clock } from './clock';
import type { Log } from './log';
import { RepeatedWarning } from './repeated-warning';
import type { EventKind, LeaseStore, Role } from './store';
import { OperationQueue, type Supervisor } from './supervisor';

/** What /health reports, computed from memory only. */
export interface HealthSnapshot {
  readonly cluster: string;
  readonly node: string;
  readonly role: Role;
  readonly term: number;
  readonly holder: string | null;
  readonly ready: boolean;
  /** Leader: L minus the time since the start of the last successful renew; others: as last seen in the DB. */
  readonly leaseRemainingMs: number;
  /** 200 iff active, ready and inside the renew deadline. */
  readonly healthy: boolean;
}

/** A role change, passed to notify.command, metrics and logs. */
export interface RoleChange {
  readonly event: EventKind | 'ready' | 'passive';
  readonly role: Role;
  readonly term: number;
  readonly detail?: string;
}

export interface ElectorProps {
  readonly cluster: string;
  readonly node: string;
  readonly timings: GuardTimings;
  /** Seconds of 503 before the app stops on a graceful release. */
  readonly drainSecs: number;
  readonly store: LeaseStore;
  readonly supervisor: Supervisor;
  readonly clock: Clock;
  readonly log: Log;
  /** Called on every role change (notify.command, metrics). @default - none */
  readonly onChange?: (change: RoleChange) => void;
  /** Called with each renew's duration in ms. @default - none */
  readonly onRenew?: (ms: number) => void;
  /** Jitter source in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Extra environment for the app. @default - only the FAILOVER_GUARD_* variables */
  readonly appEnv?: Readonly<Record<string, string>>;
}

interface Lead {
  readonly term: number;
  /** Monotonic ms at the start of the last successful renew (or the acquire). */
  renewStart: number;
  /** Monotonic ms when readiness was last confirmed, or when the lease was won. */
  readySince: number;
}

/** Where {@link electorProblems} reports each timing: the prop path, as a caller wrote it. */
export const ELECTOR_TIMING_FIELDS: TimingNames = {
  failOverIntervalSecs: 'timings.failOverIntervalSecs',
  startupTimeoutSecs: 'timings.startupTimeoutSecs',
  renewPeriodSecs: 'timings.renewPeriodSecs',
  queryTimeoutSecs: 'timings.queryTimeoutSecs',
  renewDeadlineSecs: 'timings.renewDeadlineSecs',
  stopTimeoutSecs: 'timings.stopTimeoutSecs',
  // the elector is never told the load balancer's timings, so this name is never reported
  healthCheck: 'timings',
};

/**
 * Every problem with an elector's props, each naming its prop: the lease protocol's timing rules
 * (the same {@link timingProblems} the config loader applies to its keys), the drain time, the
 * names. An embedder that builds its own timings gets the guarantees the config file gets.
 */
export function electorProblems(props: Pick<ElectorProps, 'cluster' | 'node' | 'timings' | 'drainSecs'>): Problem[] {
  const problems: Problem[] = [];
  if (typeof props.cluster !== 'string' || props.cluster === '') problems.push({ path: 'cluster', message: 'must be a non-empty string' });
  if (typeof props.node !== 'string' || props.node === '') problems.push({ path: 'node', message: 'must be a non-empty string' });
  if (!(Number.isFinite(props.drainSecs) && props.drainSecs >= 0)) problems.push({ path: 'drainSecs', message: 'must be a number of seconds ≥ 0' });
  if (typeof props.timings !== 'object' || props.timings === null) problems.push({ path: 'timings', message: 'is required' });
  else problems.push(...timingProblems(props.timings, ELECTOR_TIMING_FIELDS));
  return problems;
}

/** How often readiness is probed while the app starts. */
const READY_PROBE_MS = 250;
/** A poll timed for the lease's expiry comes this much after it (statement latency, timer slack). */
const EXPIRY_MARGIN_MS = 50;
/** First retry after a failed poll; doubles per failure up to R (with jitter). */
const POLL_RETRY_MIN_MS = 125;

/**
 * The election loop. All timing uses the injected monotonic clock; expiry itself is decided by
 * the database (the store's statements). Safety rests on three rules:
 * - /health is 200 only while `now − renewStart < D` (checked on every probe, from memory);
 * - at D a timer fences the node: role `fenced`, app stopped, whatever the DB says later;
 * - D + stop timeout < L, so the app is gone before any other node can win the lease.
 */
export class Elector {
  private role: Role = 'passive';
  private lead?: Lead;
  private ready = false;
  private holder: string | null = null;
  private seenTerm = 0;
  private seenRemainingMs = 0;
  private seenAt = 0;
  private backoffUntil = -Infinity;
  /** Bumped whenever leadership ends, so late results of an earlier leadership are ignored. */
  private gen = 0;
  private cancelDeadline?: () => void;
  private lock: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private stopped = false;
  private wake?: () => void;
  private releasing?: Promise<void>;
  /** Consecutive failed polls: retries back off (bounded by R) instead of hammering a down database. */
  private pollFailures = 0;
  /** Every start and stop of the app, in call order (a stop after a start always takes effect). */
  private readonly appOps = new OperationQueue();
  private readonly pollWarning: RepeatedWarning;
  private readonly renewWarning: RepeatedWarning;
  /** L: the lease TTL (database time). */
  private readonly leaseTtlMs: number;
  /** R: the renew/poll period before jitter. */
  private readonly renewPeriodMs: number;
  /** D: past this without a successful renew (monotonic), the node fences itself. */
  private readonly renewDeadlineMs: number;

  /** @throws ValidationError naming each invalid prop (see {@link electorProblems}) */
  constructor(private readonly props: ElectorProps) {
    throwIfProblems('Elector props', electorProblems(props));
    this.leaseTtlMs = props.timings.failOverIntervalSecs * 1000;
    this.renewPeriodMs = props.timings.renewPeriodSecs * 1000;
    this.renewDeadlineMs = props.timings.renewDeadlineSecs * 1000;
    props.supervisor.onExit((detail) => this.appExited(detail));
    this.pollWarning = new RepeatedWarning(props.log, props.clock, 'poll failed');
    this.renewWarning = new RepeatedWarning(props.log, props.clock, 'renew failed');
  }

  snapshot(): HealthSnapshot {
    const now = this.props.clock.now();
    const lead = this.lead;
    const inside = lead !== undefined && now - lead.renewStart < this.renewDeadlineMs;
    return {
      cluster: this.props.cluster,
      node: this.props.node,
      role: this.role,
      term: lead?.term ?? this.seenTerm,
      holder: lead ? this.props.node : this.holder,
      ready: this.ready,
      leaseRemainingMs: Math.max(0, Math.round(lead ? this.leaseTtlMs - (now - lead.renewStart) : this.seenRemainingMs - (now - this.seenAt))),
      healthy: this.role === 'active' && this.ready && inside,
    };
  }

  /** Runs `fn` after every earlier locked section: lease statements never interleave. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private setRole(role: Role, event: RoleChange['event'], detail?: string): void {
    const changed = role !== this.role;
    this.role = role;
    if (!changed && event === 'passive') return;
    const term = this.lead?.term ?? this.seenTerm;
    this.props.log.info({ role, event, term, detail }, `role ${role} (${event})`);
    this.props.onChange?.({ event, role, term, detail });
  }

  private record(event: EventKind, term: number, detail?: string): void {
    // Best effort and not awaited: history must never delay fencing or a handover.
    this.props.store.recordEvent(event, term, detail).catch((e: unknown) => this.props.log.warn({ err: String(e), event }, 'could not record event'));
  }

  private armDeadline(lead: Lead): void {
    this.cancelDeadline?.();
    const due = lead.renewStart + this.renewDeadlineMs - this.props.clock.now();
    this.cancelDeadline = this.props.clock.setTimer(due, () => this.fenceIfOverdue());
  }

  /** The deadline timer: past D without a successful renew, fence at once. */
  fenceIfOverdue(): void {
    const lead = this.lead;
    if (!lead) return;
    if (this.props.clock.now() - lead.renewStart >= this.renewDeadlineMs) this.fence('renew deadline passed');
    // Node timers run on libuv's cached loop time and can fire a little before the monotonic
    // deadline; without re-arming, the fence would wait for the next renew attempt, which may
    // hang on an unreachable database well past D.
    else this.armDeadline(lead);
  }

  private endLeadership(): Lead | undefined {
    const lead = this.lead;
    this.gen++;
    this.lead = undefined;
    this.ready = false;
    this.cancelDeadline?.();
    this.cancelDeadline = undefined;
    if (lead) this.seenTerm = lead.term;
    return lead;
  }

  private fence(detail: string): void {
    const lead = this.endLeadership();
    this.setRole('fenced', 'fenced', detail);
    this.props.log.warn({ term: lead?.term, detail }, 'fenced: stopping the app');
    void this.stopApp();
    if (lead) this.record('fenced', lead.term, detail);
  }

  /** Queued after every earlier start/stop; true once the app is known to be stopped. */
  private stopApp(): Promise<boolean> {
    return this.appOps.run(async () => {
      try {
        await this.props.supervisor.stop(this.props.clock.now() + this.props.timings.stopTimeoutSecs * 1000);
        return true;
      } catch (e) {
        this.props.log.error({ err: String(e) }, 'stopping the app failed; it may still run');
        return false;
      }
    });
  }

  /**
   * Starts the app for `lead`, outside the lease lock (renews and the deadline go on while a slow
   * start runs). Leadership is re-checked once the start returns: a fence, lost lease, step-down
   * or maintenance that came meanwhile finds the app stopped, in the same queue slot, so a start
   * of a later leadership can never be stopped by mistake.
   */
  private startApp(lead: Lead, env: Readonly<Record<string, string>>): Promise<void> {
    return this.appOps.run(async () => {
      const stillStarting = () => this.lead === lead && (this.role === 'starting' || this.role === 'active');
      if (!stillStarting()) return; // ended before its turn came
      try {
        await this.props.supervisor.start(env);
      } catch (e) {
        this.props.log.error({ err: String(e) }, 'starting the app failed');
        if (this.lead === lead) void this.release('app-exited', this.leaseTtlMs, `start failed: ${String(e)}`);
        return;
      }
      if (!stillStarting()) {
        this.props.log.warn({ term: lead.term, role: this.role }, 'leadership ended while the app was starting: stopping it');
        try {
          await this.props.supervisor.stop(this.props.clock.now() + this.props.timings.stopTimeoutSecs * 1000);
        } catch (e) {
          this.props.log.error({ err: String(e) }, 'stopping the app failed; it may still run');
        }
      }
    });
  }

  /** One period: renew when leading, else heartbeat and (unless backing off) try to acquire. */
  tick(): Promise<void> {
    return this.locked(() => (this.lead ? this.renew(this.lead) : this.poll()));
  }

  private async renew(lead: Lead): Promise<void> {
    const { clock, store, timings } = this.props;
    const start = clock.now();
    if (start - lead.renewStart >= this.renewDeadlineMs) return this.fence('renew deadline passed');
    const gen = this.gen;
    let r;
    try {
      r = await store.renew(lead.term, { role: this.role, term: lead.term }, timings.failOverIntervalSecs);
    } catch (e) {
      this.renewWarning.warn({ err: String(e), term: lead.term });
      return;
    }
    this.renewWarning.clear();
    if (gen !== this.gen) return;
    this.props.onRenew?.(clock.now() - start);
    if (!r.renewed) {
      this.endLeadership();
      this.setRole('passive', 'lost-lease', 'renew matched no row');
      await this.stopApp();
      this.record('lost-lease', lead.term);
      return;
    }
    lead.renewStart = start;
    this.armDeadline(lead);
    if (r.lease?.maintenance && this.role !== 'draining') {
      void this.release('maintenance-on', 0);
      return;
    }
    if (this.role === 'starting' || (this.role === 'active' && !this.ready)) {
      if (clock.now() - lead.readySince > timings.startupTimeoutSecs * 1000) {
        void this.release('startup-timeout', this.leaseTtlMs);
      }
    }
  }

  private async poll(): Promise<void> {
    const { clock, store, timings } = this.props;
    const start = clock.now();
    const tryAcquire = !this.stopping && start >= this.backoffUntil;
    let r;
    try {
      r = await store.poll({ role: this.role, term: this.seenTerm }, timings.failOverIntervalSecs, tryAcquire);
    } catch (e) {
      this.pollFailures++;
      this.pollWarning.warn({ err: String(e), failures: this.pollFailures });
      return;
    }
    this.pollFailures = 0;
    this.pollWarning.clear();
    this.holder = r.lease.holder;
    this.seenTerm = r.lease.term;
    this.seenRemainingMs = r.lease.remainingMs;
    this.seenAt = start;
    if (r.acquired && !this.stopping) return this.becomeLeader(r.lease.term, start);
    if (r.acquired) return this.releaseOwnLease(r.lease.term, 'acquired while shutting down');
    // Held under our name without being our leadership: an earlier run of this guard (restart),
    // an acquire whose reply was lost, or a renew that outlived a fence. Nobody else may take it
    // until it expires, so hand it back now (app stopped first) instead of blocking every node for L.
    // Only this process's identity (node + instance) counts: the same node id with another
    // instance is someone else's live lease (a duplicate node id, reported by the store).
    const own = r.lease.holder === this.props.node && r.lease.holderInstance === store.instance;
    if (own && r.lease.remainingMs > 0) return this.releaseOwnLease(r.lease.term, 'lease held under this node name without leading');
    if (this.stopping) return;
    if (r.lease.maintenance) this.setRole('maintenance', this.role === 'maintenance' ? 'passive' : 'maintenance-on');
    else if (clock.now() < this.backoffUntil) this.setRole('backoff', 'passive');
    else this.setRole('passive', this.role === 'maintenance' ? 'maintenance-off' : 'passive');
  }

  /** Stops the app (confirmed), then ends a lease this node holds but does not lead with. */
  private async releaseOwnLease(term: number, detail: string): Promise<void> {
    this.props.log.warn({ term, detail }, 'releasing a lease held under this node name');
    if (!(await this.stopApp())) return; // not known to be stopped: let the lease expire by itself
    try {
      await this.props.store.release(term);
      this.seenRemainingMs = 0;
      this.seenAt = this.props.clock.now();
      this.holder = null;
    } catch (e) {
      this.props.log.warn({ err: String(e), term }, 'release failed; the lease expires by itself');
    }
  }

  private becomeLeader(term: number, start: number): void {
    const lead: Lead = { term, renewStart: start, readySince: this.props.clock.now() };
    this.lead = lead;
    this.holder = this.props.node;
    this.ready = false;
    this.armDeadline(lead);
    this.setRole('starting', 'became-active');
    this.record('became-active', term);
    const { cluster, node } = this.props;
    void this.startApp(lead, {
      ...this.props.appEnv,
      FAILOVER_GUARD_TERM: String(term),
      FAILOVER_GUARD_NODE: node,
      FAILOVER_GUARD_CLUSTER: cluster,
    });
  }

  /** Probes readiness (a local check, never the DB); called often while starting, once a period when active. */
  async checkReady(): Promise<void> {
    const lead = this.lead;
    if (!lead || (this.role !== 'starting' && this.role !== 'active')) return;
    const gen = this.gen;
    let ok = false;
    try {
      ok = await this.props.supervisor.ready();
    } catch {
      ok = false;
    }
    if (gen !== this.gen || (this.role !== 'starting' && this.role !== 'active')) return;
    const now = this.props.clock.now();
    this.ready = ok;
    if (ok) {
      lead.readySince = now;
      if (this.role === 'starting') this.setRole('active', 'ready');
    } else if (now - lead.readySince > this.props.timings.startupTimeoutSecs * 1000) {
      void this.release('startup-timeout', this.leaseTtlMs);
    }
  }

  private appExited(detail: string): void {
    if (this.lead && this.role !== 'draining') {
      this.props.log.warn({ detail }, 'the app exited while this node was active');
      void this.release('app-exited', this.leaseTtlMs, detail);
    }
  }

  /** Planned handover: 503 for the drain time, stop the app, release, back off ~2 periods. */
  stepDown(): Promise<void> {
    return this.release('stepped-down', 2 * this.renewPeriodMs);
  }

  /**
   * Graceful release: /health 503 at once (role draining) and for the drain time while renews
   * continue, then stop the app, then end the lease in DB time so a passive node takes it at
   * its next poll. `backoffMs` keeps this node from winning it straight back.
   */
  private release(event: EventKind, backoffMs: number, detail?: string): Promise<void> {
    if (this.releasing) return this.releasing;
    const lead = this.lead;
    if (!lead) return Promise.resolve();
    const wasHealthy = this.snapshot().healthy;
    this.ready = false;
    this.setRole('draining', event, detail);
    this.releasing = (async () => {
      const { clock, store } = this.props;
      if (wasHealthy && this.props.drainSecs > 0) await clock.sleep(this.props.drainSecs * 1000);
      const stopped = await this.stopApp();
      await this.locked(async () => {
        if (this.lead !== lead) return; // fenced or lost meanwhile; the lease expires by itself
        this.endLeadership();
        this.backoffUntil = clock.now() + backoffMs;
        if (!stopped) this.props.log.error({ term: lead.term }, 'the app is not known to be stopped: not releasing; the lease expires by itself');
        else {
          try {
            await store.release(lead.term);
          } catch (e) {
            this.props.log.warn({ err: String(e) }, 'release failed; the lease expires by itself');
          }
        }
        this.seenRemainingMs = 0;
        this.seenAt = clock.now();
        this.holder = null;
        this.record(event, lead.term, detail);
        const role: Role = this.stopping ? 'stopped' : event === 'maintenance-on' ? 'maintenance' : 'backoff';
        this.setRole(role, role === 'backoff' ? 'passive' : event);
      });
    })().finally(() => {
      this.releasing = undefined;
    });
    return this.releasing;
  }

  /**
   * When the next tick is due: one period after `started`, except that a passive node that saw
   * the lease run out before then polls right at its expiry (the remaining time is a DB-time
   * duration, so clock skew does not matter). A crash then costs about L, not L + R; with a live
   * leader the remaining time is ≥ L − R at every poll, so steady state stays one statement per period.
   */
  nextTickAt(started: number, periodMs: number, random: () => number = Math.random): number {
    const normal = started + periodMs;
    // A failed poll (database down) retries with growing, jittered delays up to R: never the
    // expiry shortcut below, which lies in the past once the last-seen lease ran out.
    if (!this.lead && this.pollFailures > 0) {
      const cap = Math.min(this.renewPeriodMs, POLL_RETRY_MIN_MS * 2 ** Math.min(20, this.pollFailures - 1));
      return started + cap * (0.5 + 0.5 * random());
    }
    if (this.lead || this.stopping || this.role === 'backoff' || this.role === 'maintenance' || this.seenRemainingMs <= 0) return normal;
    return Math.min(normal, this.seenAt + this.seenRemainingMs + EXPIRY_MARGIN_MS);
  }

  /** The loop: one tick per period (with ±10 % jitter), readiness probes in between. */
  async run(): Promise<void> {
    const { clock } = this.props;
    const random = this.props.random ?? Math.random;
    while (!this.stopped) {
      const started = clock.now();
      await this.tick();
      await this.checkReady();
      const next = this.nextTickAt(started, this.renewPeriodMs * (1 - RENEW_JITTER + 2 * RENEW_JITTER * random()), random);
      while (!this.stopped && clock.now() < next) {
        const wait = this.role === 'starting' ? Math.min(READY_PROBE_MS, next - clock.now()) : next - clock.now();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          void clock.sleep(wait).then(resolve);
        });
        if (this.role === 'starting') await this.checkReady();
      }
    }
  }

  /** SIGTERM: stop acquiring, hand over gracefully if leading, make sure the app is stopped, end the loop. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    // Let an in-flight poll finish: an acquire landing now is handed straight back by poll().
    await this.locked(async () => undefined);
    if (this.lead) await this.release('shutdown', 0);
    else await this.stopApp();
    await this.releasing;
    this.stopped = true;
    this.role = 'stopped';
    this.wake?.();
  }
}
