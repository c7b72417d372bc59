import { readdirSync, readFileSync } from 'fs';
import { GROUP_POLL_MS } from '../../contracts/timing';

/** A process still in a group, with its state letter from /proc (`D`: uninterruptible sleep). */
export interface GroupMember {
  readonly pid: number;
  readonly state: string;
}

/** Sends `signal` to every process of the group at once (no error when it is gone already). */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** `pid`'s state letter and process group from /proc/<pid>/stat (undefined: gone). */
function procStat(pid: number | string, task = ''): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}${task}/stat`, 'utf8');
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/**
 * True when a zombie's threads have all ended too: the leader of a multi-threaded process shows
 * `Z` while its other threads may still be exiting (blocked in uninterruptible sleep on NFS).
 */
function allThreadsGone(pid: string): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true;
  }
  return tasks.every((t) => {
    const s = procStat(pid, `/task/${t}`);
    return !s || s.state === 'Z' || s.state === 'X';
  });
}

/**
 * The live members of process group `pgid`. A zombie whose threads have all ended is dead (it
 * only waits to be reaped); any other state counts, uninterruptible sleep (`D`) above all: such
 * a process survives a SIGKILL until its I/O returns, and may still write the app's data.
 * Outside Linux (no /proc): the group exists or not (`kill(-pgid, 0)`).
 */
export function groupMembers(pgid: number): GroupMember[] {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return [];
  }
  if (process.platform !== 'linux') return [{ pid: pgid, state: '?' }];
  const members: GroupMember[] = [];
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid
    const s = procStat(entry);
    if (!s || s.pgrp !== pgid) continue;
    if ((s.state === 'Z' || s.state === 'X') && allThreadsGone(entry)) continue;
    members.push({ pid: Number(entry), state: s.state });
  }
  return members;
}

/**
 * Live processes outside group `pgid` whose environment holds every one of `marks` (`KEY=value`,
 * e.g. the id of an app's start):
 * the processes an app started that left its group (a daemon that called setsid). Linux only;
 * a process whose environment cannot be read (another user's, without root) is not found.
 */
export function markedOutside(pgid: number, marks: readonly string[]): GroupMember[] {
  if (process.platform !== 'linux' || marks.length === 0) return [];
  const found: GroupMember[] = [];
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57 || Number(entry) === process.pid) continue;
    const s = procStat(entry);
    if (!s || s.pgrp === pgid || s.state === 'Z' || s.state === 'X') continue;
    let env: string[];
    try {
      env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (marks.every((m) => env.includes(m))) found.push({ pid: Number(entry), state: s.state });
  }
  return found;
}

/**
 * Resolves once `members()` finds no live process; meanwhile SIGKILLs each one it finds (a
 * process may have forked since the first kill). Rejects at the monotonic `deadline` naming those
 * left (pid and state) as members of `what`. Polls: there is no event for "empty".
 */
export async function allGone(what: string, members: () => GroupMember[], deadline: number): Promise<void> {
  for (;;) {
    const left = members();
    if (left.length === 0) return;
    for (const m of left) {
      try {
        process.kill(m.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    const now = performance.now();
    if (now >= deadline) {
      const list = left.map((m) => `${m.pid} (${m.state})`).join(', ');
      throw new Error(`${what} is not empty at the deadline: ${list}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(GROUP_POLL_MS, deadline - now)));
  }
}

/** {@link allGone} for the members of process group `pgid`. */
export function groupGone(pgid: number, deadline: number): Promise<void> {
  return allGone(`process group ${pgid}`, () => groupMembers(pgid), deadline);
}
