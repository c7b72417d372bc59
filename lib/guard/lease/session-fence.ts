import type { Log } from '../log';

/** One of the app user's sessions as the database shows it to the guard. */
export interface AppSession {
  /** PostgreSQL pid, MySQL thread id. */
  readonly id: number;
  /** Client address; null for a local socket (on the database host itself); undefined when the guard may not see it. */
  readonly addr: string | null | undefined;
}

export interface FenceRun {
  readonly appUser: string;
  readonly term: number;
  /** The address this guard connects from (this node's). */
  readonly mine: string | null;
  readonly sessions: readonly AppSession[];
  /** The guard may not see other users' sessions at all (MySQL without PROCESS). */
  readonly hidden?: boolean;
  /** Ends one session; false when it was already gone. */
  kill(id: number): Promise<boolean>;
  /** Whether a kill failed for want of privilege. */
  denied(e: unknown): boolean;
}

/**
 * Database-side fencing, the part both stores share: which of the app user's sessions to end
 * (those from any address but this node's; local sockets and sessions the guard may not see are
 * left), and one clear warning per store when a privilege is missing. It never throws for a
 * session that ended meanwhile, and never blocks the acquire (the stores run it on the side).
 */
export class SessionFence {
  private warnedHidden = false;
  private warnedDenied = false;
  private warnedSameUser = false;

  constructor(
    /** The guard's own database user: never fenced. */
    private readonly guardUser: string,
    private readonly log?: Log,
  ) {}

  /** Whether fencing `appUser` makes sense (not the guard's own user); warns once when not. */
  applies(appUser: string): boolean {
    if (appUser !== this.guardUser) return true;
    if (!this.warnedSameUser) this.log?.warn({ appUser }, 'database-side fencing skipped: the app connects as the guard user; give the app a user of its own');
    this.warnedSameUser = true;
    return false;
  }

  /** @returns the ids of the sessions ended */
  async run(r: FenceRun, privilege: string): Promise<number[]> {
    const hidden = r.sessions.filter((s) => s.addr === undefined).length + (r.hidden ? 1 : 0);
    if (hidden > 0 && !this.warnedHidden) {
      this.warnedHidden = true;
      this.log?.warn({ appUser: r.appUser, hidden, need: privilege }, "database-side fencing: the guard's database user cannot see the app user's sessions; old nodes' sessions are not ended");
    }
    const ended: number[] = [];
    for (const s of r.sessions) {
      if (typeof s.addr !== 'string' || s.addr === r.mine) continue;
      try {
        if (await r.kill(s.id)) ended.push(s.id);
      } catch (e) {
        if (!r.denied(e)) continue; // ended meanwhile
        if (!this.warnedDenied) this.log?.warn({ appUser: r.appUser, err: String(e), need: privilege }, "database-side fencing: the guard's database user may not end the app user's sessions; old nodes' sessions are not ended");
        this.warnedDenied = true;
        break;
      }
    }
    if (ended.length > 0) this.log?.info({ appUser: r.appUser, term: r.term, ended: ended.length }, "database-side fencing: ended the app user's sessions from other nodes");
    return ended;
  }
}
