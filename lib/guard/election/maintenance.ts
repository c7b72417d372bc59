import type { GuardTimings } from '../../contracts/timing';
import type { Clock } from './clock';
import type { ClusterStatus, LeaseStore } from '../lease/store';

/** Roles in which a guard's app is known to be stopped and stays stopped during maintenance. */
const HOLDING = new Set(['maintenance', 'stopped']);

/** What still keeps maintenance from being in effect: the live lease and members not yet holding. */
export function maintenancePending(status: ClusterStatus, timings: GuardTimings): string[] {
  const pending: string[] = [];
  if (status.lease.remainingMs > 0) pending.push(`${status.lease.holder ?? '?'} still holds the lease (term ${status.lease.term})`);
  const live = status.members.filter((m) => m.lastSeenMsAgo < timings.failOverIntervalSecs * 1000);
  for (const m of live) if (!HOLDING.has(m.role)) pending.push(`${m.node} reports ${m.role}`);
  return pending;
}

/**
 * After `maintenance on`: waits until no node holds the lease and every guard seen within L
 * reports `maintenance` (its app stopped; a guard that has not answered for L has fenced itself
 * long since). Resolves with what is still pending when `timeoutMs` passes (empty: done).
 */
export async function waitForMaintenance(store: LeaseStore, timings: GuardTimings, clock: Clock, timeoutMs: number, pollMs = 500): Promise<string[]> {
  const end = clock.now() + timeoutMs;
  for (;;) {
    const pending = maintenancePending(await store.status(0), timings);
    if (pending.length === 0 || clock.now() >= end) return pending;
    await clock.sleep(Math.min(pollMs, end - clock.now()));
  }
}
