import { randomBytes } from 'crypto';
import { readFileSync, renameSync, writeFileSync } from 'fs';
import { performance } from 'perf_hooks';
import type { Log } from '../log';

/**
 * Who holds a lease: a node id plus the instance id of the guard process (random, made when the
 * process starts). Two processes with the same `node.id` (a cloned image, a host name reused)
 * are two holders; only the process whose instance wrote the lease may renew or release it.
 *
 * The lease row's `holder` column carries both as `<node>#<instance>` (`#` never occurs in a
 * node id), so one column is compared atomically, the lease table keeps its shape, and a guard
 * of the previous version (which compares the whole column with its bare node id) never takes a
 * new guard's lease for its own. A bare `<node>` is a lease written by a previous version.
 */
export const HOLDER_SEPARATOR = '#';

/** A fresh instance id: 64 random bits, hex. */
export function newInstanceId(): string {
  return randomBytes(8).toString('hex');
}

/** The lease row's `holder` value for a node and an instance. */
export function holderId(node: string, instance: string): string {
  return `${node}${HOLDER_SEPARATOR}${instance}`;
}

/** Node and instance of a lease row's `holder` (instance null: written by a previous version). */
export function parseHolder(holder: string | null): { node: string | null; instance: string | null } {
  if (holder === null) return { node: null, instance: null };
  const i = holder.lastIndexOf(HOLDER_SEPARATOR);
  return i < 0 ? { node: holder, instance: null } : { node: holder.slice(0, i), instance: holder.slice(i + 1) };
}

/**
 * Records this process as the guard of its cluster and node on this machine (`file`: per
 * cluster and node, beside the pid file) and returns the instance of the previous run when that
 * process is gone (`alive` false): a restarted guard may hand that run's lease back at once
 * instead of blocking every node for L. A previous run still alive is a second guard under the
 * same node id on this machine, never a predecessor (the store reports the duplicate). Another
 * machine's run is never in this file, so a clone with the same node id is never taken for one.
 */
export function claimInstanceFile(file: string, instance: string, alive: (pid: number) => boolean): string | undefined {
  let previous: { pid?: unknown; instance?: unknown } = {};
  try {
    previous = JSON.parse(readFileSync(file, 'utf8')) as typeof previous;
  } catch {
    // no earlier run here, or an unreadable record: nothing to hand back early
  }
  const gone = typeof previous.pid === 'number' && previous.pid !== process.pid && !alive(previous.pid);
  const staging = `${file}.${process.pid}`;
  writeFileSync(staging, JSON.stringify({ pid: process.pid, instance }) + '\n', { mode: 0o600 });
  renameSync(staging, file);
  return gone && typeof previous.instance === 'string' ? previous.instance : undefined;
}

/**
 * Notices another live process beating under this node id. Every lease statement upserts this
 * node's members row with this instance and returns the instance it replaced (null when the row
 * was already this instance's). A replaced instance after this process has beaten once means a
 * second process wrote the row since: a duplicate node id. A restart is not one (the earlier run
 * is replaced once, at the first beat, and never writes again). The episode ends when no other
 * instance has been seen for `quietMs` (the lease TTL). Logged once per episode; never acted on.
 */
export class DuplicateNodeWatch {
  private beaten = false;
  private episode?: { other: string; lastSeen: number };

  constructor(
    private readonly node: string,
    private readonly log?: Log,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The other instance while a duplicate episode lasts. */
  get duplicate(): string | undefined {
    return this.episode?.other;
  }

  /** One successful heartbeat; `replaced` is the other instance it overwrote, if any. */
  beat(replaced: string | null | undefined, quietMs: number): void {
    const now = this.now();
    if (replaced && this.beaten) {
      if (!this.episode) this.log?.warn({ node: this.node, otherInstance: replaced }, 'duplicate node id: another guard process beats under this node id (cloned image or reused host name?); its lease is never renewed or released by this one');
      this.episode = { other: replaced, lastSeen: now };
    } else if (this.episode && now - this.episode.lastSeen > quietMs) {
      this.log?.info({ node: this.node, otherInstance: this.episode.other }, 'duplicate node id: the other process has not been seen for a lease interval');
      this.episode = undefined;
    }
    this.beaten = true;
  }
}
