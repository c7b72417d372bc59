/**
 * The lease store: the only place the guard talks to its database. Every implementation follows
 * the design's protocol — database time for expiry, the term as fencing token, renew/acquire
 * succeed only when exactly one row changes — so a MySQL/MariaDB store (NOW(6), affectedRows)
 * drops in beside the PostgreSQL one.
 */

import type { Role } from '../election/roles';
import { BACKGROUND_CONNECT_FACTOR } from '../../contracts/timing';
import type { Log } from '../log';

/** Event kinds written to the events table on role changes. */
export type EventKind =
  | 'became-active'
  | 'stepped-down'
  | 'lost-lease'
  | 'fenced'
  | 'startup-timeout'
  | 'app-exited'
  | 'maintenance-on'
  | 'maintenance-off'
  | 'shutdown';

/** The lease row as one node saw it, with the remaining time computed in database time. */
export interface LeaseView {
  /** Node id of the holder (the node, not the process: see holderInstance). */
  readonly holder: string | null;
  /** Instance id of the holder's guard process; null for a lease written by a previous version. @default - not reported (a store without instances) */
  readonly holderInstance?: string | null;
  readonly term: number;
  /** Milliseconds until expiry in database time (0 when expired). */
  readonly remainingMs: number;
  readonly maintenance: boolean;
}

/** This node's row in the members table, written with every lease statement. */
export interface Beat {
  readonly role: Role;
  readonly term: number;
}

export interface AcquireResult {
  /** true when this statement took the lease (term incremented). */
  readonly acquired: boolean;
  readonly lease: LeaseView;
}

export interface RenewResult {
  /** Exactly one row matched holder + term: still the leader. */
  readonly renewed: boolean;
  readonly lease?: LeaseView;
}

export interface MemberStatus {
  readonly node: string;
  /** Instance id of the guard process that beat last ('' for a previous version). */
  readonly instance?: string;
  /** Another process beating under the same node id, as its guard last reported it. */
  readonly duplicate?: { readonly instance: string; readonly seenMsAgo: number };
  readonly role: string;
  readonly term: number;
  /** Milliseconds since the node's last statement, in database time. */
  readonly lastSeenMsAgo: number;
  readonly version: string;
}

export interface GuardEvent {
  readonly at: string;
  readonly node: string;
  readonly event: string;
  readonly term: number;
  readonly detail: string | null;
}

export interface ClusterStatus {
  readonly cluster: string;
  readonly lease: LeaseView;
  readonly members: readonly MemberStatus[];
  /** Newest first. */
  readonly events: readonly GuardEvent[];
}

/** What every lease store is built from (see the factory `createLeaseStore`). */
export interface LeaseStoreProps {
  /** `database.url` without a password (the scheme picks the store). */
  readonly url: string;
  readonly cluster: string;
  readonly node: string;
  readonly version: string;
  /** Q: client- and server-side timeout of each statement. */
  readonly queryTimeoutSecs: number;
  /** Fetched on the first connect and again after the server rejects it (rotation). @default - none (URL or client defaults) */
  readonly password?: () => Promise<string | undefined>;
  /** Bound of each password wait and each connect on a reconnect. @default Q */
  readonly connectTimeoutSecs?: number;
  /** This guard process's instance id (see holder-identity.ts). @default - a random one per store */
  readonly instance?: string;
  /**
   * The instance of this guard's previous run on this machine, known to be gone (see
   * {@link claimInstanceFile}): its lease may be handed back at once after a restart.
   * @default - none (an earlier run's lease expires after L)
   */
  readonly predecessor?: string;
  /**
   * The app's database user (`app.database.url`'s): on acquire its sessions from other nodes are
   * terminated (database-side fencing). @default - no database-side fencing
   */
  readonly appUser?: string;
  /** Where duplicate node ids and fencing problems are reported. @default - not logged */
  readonly log?: Log;
}

/**
 * A (re)connect's two bounds, in ms: a lease statement waits for it at most `waitMs` (so a renew
 * still gets its retry inside D), while the connect itself may go on up to `limitMs` and its
 * connection is kept for the next statement. On a loaded machine a connect (new server process,
 * SCRAM, session settings) can take longer than Q every time: abandoning each one at Q made a
 * guard that lost its connection never get one back (a leader then fenced itself at D, and its
 * next poll handed the lease over).
 */
export function connectBounds(props: Pick<LeaseStoreProps, 'queryTimeoutSecs' | 'connectTimeoutSecs'>): { waitMs: number; limitMs: number } {
  const waitMs = Math.round((props.connectTimeoutSecs ?? props.queryTimeoutSecs) * 1000);
  return { waitMs, limitMs: waitMs * BACKGROUND_CONNECT_FACTOR };
}

export interface LeaseStore {
  /** Creates the tables and this cluster's lease row if missing (idempotent). */
  init(): Promise<void>;
  /**
   * One statement: heartbeat + (when `tryAcquire`) take the lease if expired and not in
   * maintenance, returning the lease as seen. Used by passive nodes every period.
   */
  poll(beat: Beat, leaseSecs: number, tryAcquire: boolean): Promise<AcquireResult>;
  /** One statement: heartbeat + extend the lease held with `term`. */
  renew(term: number, beat: Beat, leaseSecs: number): Promise<RenewResult>;
  /**
   * Ends the lease held with `term` now (database time), so a passive node takes over at its next
   * poll. `instance`: whose lease under this node id (this process's by default; the
   * {@link predecessor}'s after a restart).
   */
  release(term: number, instance?: string): Promise<boolean>;
  /** Sets the cluster-wide maintenance flag and records the event. */
  setMaintenance(on: boolean): Promise<void>;
  recordEvent(event: EventKind, term: number, detail?: string): Promise<void>;
  status(eventLimit?: number): Promise<ClusterStatus>;
  /** Statements sent so far (for metrics and the benchmark). */
  readonly statements: number;
  /** This process's instance id: a lease is this process's only when holder and instance match. @default - none (node id only) */
  readonly instance?: string;
  /** The instance of this guard's previous run on this machine, gone: its lease is this node's to hand back. */
  readonly predecessor?: string;
  /** The other instance while another live process beats under this node id. */
  readonly duplicateNodeId?: string;
  close(): Promise<void>;
}

/** Table names: prefixed, because the guard shares the application's database. */
export const TABLES = {
  lease: 'failover_guard_lease',
  members: 'failover_guard_members',
  events: 'failover_guard_events',
} as const;
