import type { AcquireResult, Beat, ClusterStatus, EventKind, LeaseStore, LeaseView, RenewResult } from '../../lib/guard/lease/store';

/**
 * The lease protocol on an in-memory "database" with its own clock, for election unit tests.
 * Same rules as the SQL: expiry in DB time, term + 1 on acquire, renew/release need holder + term.
 */
export class MemoryDb {
  holder: string | null = null;
  term = 0;
  expiresAt = -Infinity;
  maintenance = false;
  /** While true every statement fails, like a stopped database. */
  down = false;
  readonly members = new Map<string, { role: string; term: number; lastSeen: number }>();
  readonly events: Array<{ node: string; event: string; term: number }> = [];
  statements = 0;

  constructor(readonly now: () => number) {}

  view(): LeaseView {
    return { holder: this.holder, term: this.term, remainingMs: Math.max(0, this.expiresAt - this.now()), maintenance: this.maintenance };
  }

  store(cluster: string, node: string): MemoryStore {
    return new MemoryStore(this, cluster, node);
  }
}

export class MemoryStore implements LeaseStore {
  private count = 0;

  constructor(
    private readonly db: MemoryDb,
    private readonly cluster: string,
    private readonly node: string,
  ) {}

  get statements(): number {
    return this.count;
  }

  private async statement(): Promise<void> {
    this.count++;
    this.db.statements++;
    if (this.db.down) throw new Error('connection refused');
  }

  private beat(beat: Beat): void {
    this.db.members.set(this.node, { role: beat.role, term: beat.term, lastSeen: this.db.now() });
  }

  async init(): Promise<void> {
    await this.statement();
  }

  async poll(beat: Beat, leaseSecs: number, tryAcquire: boolean): Promise<AcquireResult> {
    await this.statement();
    this.beat(beat);
    const db = this.db;
    if (tryAcquire && db.expiresAt < db.now() && !db.maintenance) {
      db.holder = this.node;
      db.term++;
      db.expiresAt = db.now() + leaseSecs * 1000;
      return { acquired: true, lease: db.view() };
    }
    return { acquired: false, lease: db.view() };
  }

  async renew(term: number, beat: Beat, leaseSecs: number): Promise<RenewResult> {
    await this.statement();
    this.beat(beat);
    const db = this.db;
    if (db.holder !== this.node || db.term !== term) return { renewed: false };
    db.expiresAt = db.now() + leaseSecs * 1000;
    return { renewed: true, lease: db.view() };
  }

  async release(term: number): Promise<boolean> {
    await this.statement();
    const db = this.db;
    if (db.holder !== this.node || db.term !== term || db.expiresAt <= db.now()) return false;
    // clock_timestamp() of any later statement is strictly later than this one's.
    db.expiresAt = db.now() - 0.001;
    return true;
  }

  async setMaintenance(on: boolean): Promise<void> {
    await this.statement();
    this.db.maintenance = on;
    this.db.events.push({ node: this.node, event: on ? 'maintenance-on' : 'maintenance-off', term: this.db.term });
  }

  async recordEvent(event: EventKind, term: number): Promise<void> {
    await this.statement();
    this.db.events.push({ node: this.node, event, term });
  }

  async status(): Promise<ClusterStatus> {
    await this.statement();
    return {
      cluster: this.cluster,
      lease: this.db.view(),
      members: [...this.db.members].map(([node, m]) => ({ node, role: m.role, term: m.term, lastSeenMsAgo: this.db.now() - m.lastSeen, version: 'test' })),
      events: this.db.events.map((e) => ({ at: '', detail: null, ...e })).reverse(),
    };
  }

  async close(): Promise<void> {}
}
