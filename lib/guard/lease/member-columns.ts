/** A members column added after the first release: name and SQL type (with its default). */
export type MemberColumn = readonly [name: string, type: string];

/** What a store tells {@link MemberColumnsUpgrade} about its database. */
export interface MemberColumnsOps {
  /** Names of the members table's columns (lower case); none when the table does not exist yet. */
  present(): Promise<string[]>;
  /** `ALTER TABLE … ADD COLUMN name type`. */
  add(name: string, type: string): Promise<void>;
  /** Whether an `add` failed because another guard added the column at the same moment. */
  raced(e: unknown): boolean;
}

/**
 * Brings a members table of the previous shape up to this version's, for both stores: run by
 * init-db and before a store's first statement, once per store (again after a failure). Only the
 * missing columns are added (a lookup first: MySQL 8 has no ADD COLUMN IF NOT EXISTS, and an
 * ALTER takes the table's exclusive lock even when there is nothing to do).
 */
export class MemberColumnsUpgrade {
  private done?: Promise<void>;

  constructor(
    private readonly columns: readonly MemberColumn[],
    private readonly ops: MemberColumnsOps,
  ) {}

  ensure(): Promise<void> {
    this.done ??= this.run().catch((e: unknown) => {
      this.done = undefined;
      throw e;
    });
    return this.done;
  }

  /** Checks again at the next {@link ensure} (init-db just created or changed the tables). */
  reset(): void {
    this.done = undefined;
  }

  private async run(): Promise<void> {
    const present = new Set(await this.ops.present());
    if (present.size === 0) return; // no table yet: init creates it in this shape
    for (const [name, type] of this.columns) {
      if (present.has(name)) continue;
      try {
        await this.ops.add(name, type);
      } catch (e) {
        if (!this.ops.raced(e)) throw e;
      }
    }
  }
}
