import { throwIfProblems, type Problem } from '../../problems/problems';
import { clockMarginSecs, EXPIRY_MARGIN_MS, KILL_CONFIRM_SECS, leaseDeadlines, POLL_RETRY_MIN_MS, READY_PROBE_MS, RENEW_JITTER, timingProblems, type GuardTimings, type ServiceMode, type TimingNames } from '../../contracts/timing';
import type { Clock } from './clock';
import type { Log } from '../log';
import { RepeatedWarning } from './repeated-warning';
import type { Role } from './roles';
import type { EventKind, LeaseStore } from '../lease/store';
import { OperationQueue, type Supervisor } from '../app/supervisor';

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
  /**
   * The app may still run although this node must not run it: a kill or stop was not confirmed.
   * Such a node keeps killing and never acquires until it is confirmed gone.
   */
  readonly appUnconfirmed: boolean;
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
  /**
   * How the supervisor runs the app: its kill-confirm bound K (`KILL_CONFIRM_SECS`) is part of
   * the timing rule checked by `timingProblems`. @default 'exec'
   */
  readonly serviceMode?: ServiceMode;
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
  /** Monotonic ms at the send of the last successful renew (or the acquire): every deadline counts from it. */
  renewSend: number;
  /** Wall minus monotonic ms at that send: a later divergence beyond M kills (see {@link Elector.clockDiverged}). */
  wallOffset: number;
  /** Monotonic ms when the lease was won. */
  readonly wonAt: number;
  /** Monotonic ms when readiness was last confirmed; undefined until the app was ready once. */
  readyAt?: number;
  /** Aborted when this leadership ends: a start still in progress launches nothing. */
  readonly startSignal: AbortController;
}

/** Where {@link electorProblems} reports each timing: the prop path, as a caller wrote it. */
export const ELECTOR_TIMING_FIELDS: TimingNames = {
  failOverIntervalSecs: 'timings.failOverIntervalSecs',
  startupTimeoutSecs: 'timings.startupTimeoutSecs',
  renewPeriodSecs: 'timings.renewPeriodSecs',
  queryTimeoutSecs: 'timings.queryTimeoutSecs',
  renewDeadlineSecs: 'timings.renewDeadlineSecs',
  stopTimeoutSecs: 'timings.stopTimeoutSecs',
  serviceMode: 'serviceMode',
  // the elector is never told the load balancer's timings, so this name is never reported
  healthCheck: 'timings',
};

/**
 * Every problem with an elector's props, each naming its prop: the lease protocol's timing rules
 * (the same {@link timingProblems} the config loader applies to its keys), the drain time, the
 * names. An embedder that builds its own timings gets the guarantees the config file gets.
 */
export function electorProblems(props: Pick<ElectorProps, 'cluster' | 'node' | 'timings' | 'drainSecs' | 'serviceMode'>): Problem[] {
  const problems: Problem[] = [];
  if (typeof props.cluster !== 'string' || props.cluster === '') problems.push({ path: 'cluster', message: 'must be a non-empty string' });
  if (typeof props.node !== 'string' || props.node === '') problems.push({ path: 'node', message: 'must be a non-empty string' });
  if (!(Number.isFinite(props.drainSecs) && props.drainSecs >= 0)) problems.push({ path: 'drainSecs', message: 'must be a number of seconds ≥ 0' });
  if (typeof props.timings !== 'object' || props.timings === null) problems.push({ path: 'timings', message: 'is required' });
  else problems.push(...timingProblems(props.timings, ELECTOR_TIMING_FIELDS, undefined, props.serviceMode ?? 'exec'));
  return problems;
}

/**
 * The election loop. All deadlines use the injected monotonic clock; expiry itself is decided by
 * the database (the store's statements). Safety rests on these rules:
 * - /health is 200 only while `now − renewSend < D` (checked on every probe, from memory);
 * - at D a timer fences the node: role `fenced`, the app killed at once (never a graceful stop),
 *   with the deadline `renewSend + L − M` whatever time the fence runs at;
 * - L − D ≥ K + M, so the kill is confirmed before any other node can win the lease;
 * - a node whose app is not confirmed gone never acquires (it keeps killing);
 * - graceful stops happen only on planned handovers, while the lease is still renewed.
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
  /** Lease statements in call order (a queue of its own: a kill of the app never preempts them). */
  private readonly lock = new OperationQueue();
  private stopping = false;
  private stopped = false;
  private wake?: () => void;
  private releasing?: Promise<void>;
  /** The kill in progress (retried until confirmed); undefined when none runs. */
  private killing?: Promise<boolean>;
  /** Why the app is not known to be gone (a kill or stop that was not confirmed); undefined: gone or running under a lease. */
  private unconfirmed?: string;
  /** Consecutive failed polls: retries back off (bounded by R) instead of hammering a down database. */
  private pollFailures = 0;
  /** Every start and planned stop of the app, in call order (a stop after a start always takes effect). Kills bypass it. */
  private readonly appOps = new OperationQueue();
  private readonly pollWarning: RepeatedWarning;
  private readonly renewWarning: RepeatedWarning;
  /** L: the lease TTL (database time). */
  private readonly leaseTtlMs: number;
  /** R: the renew/poll period before jitter. */
  private readonly renewPeriodMs: number;
  /** D: past this without a successful renew (monotonic), the node fences itself. */
  private readonly renewDeadlineMs: number;
  /** M: the largest wall/monotonic divergence tolerated while leading. */
  private readonly clockMarginMs: number;
  /** K: a retried kill's confirm window once the lease's own deadline has passed. */
  private readonly killConfirmMs: number;

  /** @throws ValidationError naming each invalid prop (see {@link electorProblems}) */
  constructor(private readonly props: ElectorProps) {
    throwIfProblems('Elector props', electorProblems(props));
    this.leaseTtlMs = props.timings.failOverIntervalSecs * 1000;
    this.renewPeriodMs = props.timings.renewPeriodSecs * 1000;
    this.renewDeadlineMs = props.timings.renewDeadlineSecs * 1000;
    this.clockMarginMs = clockMarginSecs(props.timings.failOverIntervalSecs) * 1000;
    this.killConfirmMs = KILL_CONFIRM_SECS[props.serviceMode ?? 'exec'] * 1000;
    props.supervisor.onExit((detail, byBackstop) => this.appExited(detail, byBackstop === true));
    this.pollWarning = new RepeatedWarning(props.log, props.clock, 'poll failed');
    this.renewWarning = new RepeatedWarning(props.log, props.clock, 'renew failed');
  }

  snapshot(): HealthSnapshot {
    const lead = this.lead;
    // A probe after a paused VM or a clock step is often the first thing to run: fence now.
    if (lead && this.clockDiverged(lead)) this.fence('wall and monotonic clocks diverged by more than M');
    const now = this.props.clock.now();
    const leading = this.lead;
    const inside = leading !== undefined && now - leading.renewSend < this.renewDeadlineMs;
    return {
      cluster: this.props.cluster,
      node: this.props.node,
      role: this.role,
      term: leading?.term ?? this.seenTerm,
      holder: leading ? this.props.node : this.holder,
      ready: this.ready,
      leaseRemainingMs: Math.max(0, Math.round(leading ? this.leaseTtlMs - (now - leading.renewSend) : this.seenRemainingMs - (now - this.seenAt))),
      appUnconfirmed: this.appUnconfirmed(),
      healthy: this.role === 'active' && this.ready && inside,
    };
  }

  /** Whether a kill or stop of the app is not confirmed (the app may still run); from memory. */
  appUnconfirmed(): boolean {
    return this.unconfirmed !== undefined || this.killing !== undefined;
  }

  /** Runs `fn` after every earlier locked section: lease statements never interleave. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(fn);
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

  /** The instants the lead's last successful renew proves (fence at D, kill confirmed by L − M). */
  private deadlines(lead: Lead) {
    return leaseDeadlines(lead.renewSend, this.props.timings);
  }

  /** True when wall and monotonic time moved apart by more than M since the last renew's send. */
  private clockDiverged(lead: Lead): boolean {
    const { clock } = this.props;
    return Math.abs(clock.wallNow() - clock.now() - lead.wallOffset) > this.clockMarginMs;
  }

  /** After every successful renew (and the acquire): the deadline timer and the outside backstop move on. */
  private armDeadline(lead: Lead): void {
    this.cancelDeadline?.();
    const { fenceAt } = this.deadlines(lead);
    this.props.supervisor.setValidUntil?.(fenceAt);
    this.cancelDeadline = this.props.clock.setTimer(fenceAt - this.props.clock.now(), () => this.fenceIfOverdue());
  }

  /** The deadline timer: past D without a successful renew, fence at once. */
  fenceIfOverdue(): void {
    const lead = this.lead;
    if (!lead) return;
    if (this.props.clock.now() >= this.deadlines(lead).fenceAt) this.fence('renew deadline passed');
    else if (this.clockDiverged(lead)) this.fence('wall and monotonic clocks diverged by more than M');
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
    if (lead) {
      this.seenTerm = lead.term;
      lead.startSignal.abort();
    }
    return lead;
  }

  /**
   * The node can no longer prove its lease: 503, abort a start in progress, kill the app at once
   * with the deadline the last successful renew gives (never a fresh one: the fence may run late).
   */
  private fence(detail: string, event: 'fenced' | 'lost-lease' = 'fenced'): void {
    const lead = this.endLeadership();
    this.setRole('fenced', event, detail);
    if (!lead) return;
    this.props.log.warn({ term: lead.term, detail }, `${event}: killing the app`);
    void this.killApp(this.deadlines(lead).killBy);
    this.record(event, lead.term, detail);
  }

  /**
   * Kills the app, outside the start/stop queue (a kill preempts), until it is confirmed gone:
   * the first attempt gets `deadline`; once that has passed, each retry gets K to confirm. Until
   * confirmed the node reports `appUnconfirmed` and does not acquire. True once confirmed gone.
   */
  private killApp(deadline: number): Promise<boolean> {
    if (this.killing) return this.killing;
    const { clock, log, supervisor } = this.props;
    this.killing = (async () => {
      for (let by = deadline; ; by = clock.now() + this.killConfirmMs) {
        try {
          await supervisor.kill(by);
          this.unconfirmed = undefined;
          return true;
        } catch (e) {
          this.unconfirmed = `kill not confirmed: ${String(e)}`;
          log.error({ err: String(e) }, 'killing the app was not confirmed; it may still run: retrying, not acquiring meanwhile');
        }
        if (this.stopping) return false;
        await clock.sleep(this.renewPeriodMs);
      }
    })().finally(() => {
      this.killing = undefined;
    });
    return this.killing;
  }

  /** A planned, graceful stop (queued after every earlier start/stop); true once the app is confirmed gone. */
  private stopApp(deadline: number): Promise<boolean> {
    return this.appOps.run(async () => {
      try {
        await this.props.supervisor.stop(deadline);
        return true;
      } catch (e) {
        this.unconfirmed = `stop not confirmed: ${String(e)}`;
        this.props.log.error({ err: String(e) }, 'stopping the app was not confirmed; it may still run');
        return false;
      }
    });
  }

  /** A planned stop's deadline: the stop timeout from now (the lease is still renewed meanwhile). */
  private plannedStopDeadline(): number {
    return this.props.clock.now() + this.props.timings.stopTimeoutSecs * 1000;
  }

  /**
   * Starts the app for `lead`, outside the lease lock (renews and the deadline go on while a slow
   * start runs). The start gets the leadership's abort signal (a fence or loss aborts it: nothing
   * launches after). Leadership is re-checked once the start returns: ended by a fence or loss
   * meanwhile → killed; by a planned release → its stop follows in the same queue.
   */
  private startApp(lead: Lead, env: Readonly<Record<string, string>>): Promise<void> {
    return this.appOps.run(async () => {
      const stillStarting = () => this.lead === lead && (this.role === 'starting' || this.role === 'active');
      if (!stillStarting()) return; // ended before its turn came
      try {
        await this.props.supervisor.start(env, lead.startSignal.signal);
      } catch (e) {
        if (lead.startSignal.signal.aborted) {
          this.props.log.warn({ term: lead.term }, 'leadership ended while the app was starting: start aborted');
          return;
        }
        this.props.log.error({ err: String(e) }, 'starting the app failed');
        if (this.lead === lead) void this.release('app-exited', this.leaseTtlMs, `start failed: ${String(e)}`);
        return;
      }
      if (!stillStarting() && this.role === 'fenced') {
        this.props.log.warn({ term: lead.term }, 'fenced while the app was starting: killing it');
        await this.killApp(this.deadlines(lead).killBy);
      }
    });
  }

  /** One period: renew when leading, else heartbeat and (unless backing off) try to acquire. */
  tick(): Promise<void> {
    return this.locked(async () => {
      await (this.lead ? this.renew(this.lead) : this.poll());
      this.debugTick();
    });
  }

  /**
   * `log.level=debug`: one line per tick, after its statement: role, term, ms since the last
   * successful renew's send and ms left until D (both null while not leading). Never from
   * {@link snapshot}: a probe of /health logs nothing.
   */
  private debugTick(): void {
    const debug = this.props.log.debug;
    if (!debug) return;
    const now = this.props.clock.now();
    const lead = this.lead;
    debug.call(this.props.log, {
      role: this.role,
      term: lead?.term ?? this.seenTerm,
      sinceRenewMs: lead ? Math.round(now - lead.renewSend) : null,
      deadlineLeftMs: lead ? Math.round(this.deadlines(lead).fenceAt - now) : null,
    }, 'tick');
  }

  private async renew(lead: Lead): Promise<void> {
    const { clock, store, timings } = this.props;
    const send = clock.now();
    if (send >= this.deadlines(lead).fenceAt) return this.fence('renew deadline passed');
    if (this.clockDiverged(lead)) return this.fence('wall and monotonic clocks diverged by more than M');
    const wallOffset = clock.wallNow() - send;
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
    this.props.onRenew?.(clock.now() - send);
    if (!r.renewed) return this.fence('renew matched no row', 'lost-lease');
    // A VM paused between send and reply: the monotonic clock may have stood still while the
    // lease ran out in database time; the reply proves nothing then.
    if (Math.abs(clock.wallNow() - clock.now() - wallOffset) > this.clockMarginMs) return this.fence('wall and monotonic clocks diverged by more than M during a renew');
    lead.renewSend = send;
    lead.wallOffset = wallOffset;
    this.armDeadline(lead);
    if (r.lease?.maintenance && this.role !== 'draining') {
      void this.release('maintenance-on', 0);
      return;
    }
    this.checkReadyLimits(lead);
  }

  /**
   * The liveness limits, checked on every renew too (so a readiness probe that hangs counts):
   * never ready within the startup timeout → release; unready for longer than L after having
   * been ready (an app that hangs without exiting) → step down, not hold the lease meanwhile.
   */
  private checkReadyLimits(lead: Lead): void {
    if (this.role !== 'starting' && this.role !== 'active') return;
    const now = this.props.clock.now();
    if (lead.readyAt === undefined) {
      if (now - lead.wonAt > this.props.timings.startupTimeoutSecs * 1000) void this.release('startup-timeout', this.leaseTtlMs);
    } else if (now - lead.readyAt > this.leaseTtlMs) {
      void this.release('stepped-down', this.leaseTtlMs, `app unready for more than ${this.props.timings.failOverIntervalSecs}s after being ready`);
    }
  }

  private async poll(): Promise<void> {
    const { clock, store, timings } = this.props;
    const start = clock.now();
    const wallOffset = clock.wallNow() - start;
    const appGone = this.unconfirmed === undefined && this.killing === undefined;
    const tryAcquire = !this.stopping && appGone && start >= this.backoffUntil;
    if (!appGone && !this.killing) void this.killApp(clock.now() + this.killConfirmMs);
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
    if (r.acquired && !this.stopping) return this.becomeLeader(r.lease.term, start, wallOffset);
    if (r.acquired) return this.releaseOwnLease(r.lease.term, r.lease.remainingMs, start, 'acquired while shutting down');
    // Held under our name without being our leadership: an earlier run of this guard (restart),
    // an acquire whose reply was lost, or a renew that outlived a fence. Nobody else may take it
    // until it expires, so hand it back now (app killed first) instead of blocking every node for L.
    // Only this process's identity (node + instance) counts: the same node id with another
    // instance is someone else's live lease (a duplicate node id, reported by the store).
    // An earlier run of this guard on this machine, known to be gone, counts as this process.
    const instance = r.lease.holderInstance;
    const own = r.lease.holder === this.props.node && (instance === store.instance || (instance != null && instance === store.predecessor));
    if (own && r.lease.remainingMs > 0) return this.releaseOwnLease(r.lease.term, r.lease.remainingMs, start, 'lease held under this node name without leading', instance);
    if (this.stopping) return;
    if (!appGone) this.setRole('fenced', 'passive');
    else if (r.lease.maintenance) this.setRole('maintenance', this.role === 'maintenance' ? 'passive' : 'maintenance-on');
    else if (clock.now() < this.backoffUntil) this.setRole('backoff', 'passive');
    else this.setRole('passive', this.role === 'maintenance' ? 'maintenance-off' : 'passive');
  }

  /**
   * Kills the app (confirmed), then ends a lease this node holds but does not lead with. The kill
   * gets the lease's end as this poll saw it (sent at `sentAt`), less M.
   */
  private async releaseOwnLease(term: number, remainingMs: number, sentAt: number, detail: string, instance?: string): Promise<void> {
    this.props.log.warn({ term, detail }, 'releasing a lease held under this node name');
    // A kill still being retried is not awaited inside the lease lock: the lease expires by itself.
    if (this.killing) return;
    if (!(await this.killApp(sentAt + remainingMs - this.clockMarginMs))) return; // not known to be gone: let the lease expire by itself
    try {
      await this.props.store.release(term, instance);
      this.seenRemainingMs = 0;
      this.seenAt = this.props.clock.now();
      this.holder = null;
    } catch (e) {
      this.props.log.warn({ err: String(e), term }, 'release failed; the lease expires by itself');
    }
  }

  /** `wallOffset` is wall minus monotonic time at the acquire's send: a pause during it shows at the first check. */
  private becomeLeader(term: number, start: number, wallOffset: number): void {
    const lead: Lead = { term, renewSend: start, wallOffset, wonAt: this.props.clock.now(), startSignal: new AbortController() };
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

  /**
   * Probes readiness once (a local check, never the DB). The loop calls it on its own timer (see
   * {@link run}), never inside the renew loop: a slow probe never delays a renew.
   */
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
    this.ready = ok;
    if (ok) {
      lead.readyAt = this.props.clock.now();
      if (this.role === 'starting') this.setRole('active', 'ready');
    }
    this.checkReadyLimits(lead);
  }

  private appExited(detail: string, byBackstop: boolean): void {
    // The backstop outside this loop kills the app at the instant this loop fences, and its kill
    // may be seen first (its instant rounds down; this loop's timer may be late): that exit, or
    // any exit past D, is the fence, not an app failure.
    if (this.lead && this.role !== 'draining' && (byBackstop || this.props.clock.now() >= this.deadlines(this.lead).fenceAt)) return this.fence(`renew deadline passed (${detail})`);
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
   * its next poll. `backoffMs` keeps this node from winning it straight back. A stop that is
   * not confirmed escalates to a kill while the node keeps renewing (503); the lease is released
   * only once the app is confirmed gone. Renews failing meanwhile fence the node (a kill).
   */
  private release(event: EventKind, backoffMs: number, detail?: string): Promise<void> {
    if (this.releasing) return this.releasing;
    const lead = this.lead;
    if (!lead) return Promise.resolve();
    const wasHealthy = this.snapshot().healthy;
    if (this.lead !== lead) return Promise.resolve(); // the snapshot found the clocks diverged: fenced
    this.ready = false;
    this.setRole('draining', event, detail);
    this.releasing = (async () => {
      const { clock, store, log } = this.props;
      if (wasHealthy && this.props.drainSecs > 0) await clock.sleep(this.props.drainSecs * 1000);
      let gone = await this.stopApp(this.plannedStopDeadline());
      if (!gone && this.lead === lead) {
        log.error({ term: lead.term }, 'the planned stop was not confirmed: killing the app, renewing with 503 meanwhile');
        gone = await this.killApp(this.deadlines(lead).killBy);
      }
      await this.locked(async () => {
        if (this.lead !== lead) return; // fenced or lost meanwhile: that path kills; the lease expires by itself
        this.endLeadership();
        this.backoffUntil = clock.now() + backoffMs;
        if (!gone) log.error({ term: lead.term }, 'the app is not known to be gone: not releasing; the lease expires by itself');
        else {
          try {
            await store.release(lead.term);
          } catch (e) {
            log.warn({ err: String(e) }, 'release failed; the lease expires by itself');
          }
        }
        this.seenRemainingMs = 0;
        this.seenAt = clock.now();
        this.holder = null;
        this.record(event, lead.term, detail);
        const role: Role = this.stopping ? 'stopped' : !gone ? 'fenced' : event === 'maintenance-on' ? 'maintenance' : 'backoff';
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

  /** The loop: one tick per period (with ±10 % jitter); readiness is probed by its own loop. */
  async run(): Promise<void> {
    const { clock } = this.props;
    const random = this.props.random ?? Math.random;
    const probing = this.probeLoop();
    while (!this.stopped) {
      const started = clock.now();
      await this.tick();
      const next = this.nextTickAt(started, this.renewPeriodMs * (1 - RENEW_JITTER + 2 * RENEW_JITTER * random()), random);
      if (!this.stopped && clock.now() < next) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          void clock.sleep(next - clock.now()).then(resolve);
        });
      }
    }
    // the probe loop ends at its next turn; a probe that hangs is left behind, never awaited
    void probing;
  }

  /** Readiness, on its own timer: every 250 ms while starting, every R once active. */
  private async probeLoop(): Promise<void> {
    const { clock } = this.props;
    while (!this.stopped) {
      await this.checkReady();
      await clock.sleep(this.role === 'active' ? this.renewPeriodMs : READY_PROBE_MS);
    }
  }

  /** SIGTERM: stop acquiring, hand over gracefully if leading, make sure the app is gone, end the loop. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    // Let an in-flight poll finish: an acquire landing now is handed straight back by poll().
    await this.locked(async () => undefined);
    if (this.lead) await this.release('shutdown', 0);
    else if (this.killing || this.unconfirmed !== undefined) await (this.killing ?? this.killApp(this.props.clock.now() + this.killConfirmMs));
    else await this.stopApp(this.plannedStopDeadline());
    await this.releasing;
    this.stopped = true;
    this.role = 'stopped';
    this.wake?.();
  }
}
