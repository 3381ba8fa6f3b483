/**
 * Leasing waiting entries to an owner. One UPDATE ... RETURNING picks and
 * marks them under SQLite's write lock, so concurrent consumers (in any
 * process) never get the same entry.
 */
import type { SqliteDatabase } from "./schema.js";

export interface ClaimedEntry {
  readonly id: number;
  readonly priority: number;
  readonly body: Buffer;
  /** Including this one: 1 on the first delivery. */
  readonly deliveries: number;
}

export type ClaimEntries = (queue: string, owner: string, limit: number) => ClaimedEntry[];

export function prepareClaimEntries(db: SqliteDatabase): ClaimEntries {
  // The EXISTS guard: an owner whose registration was reclaimed must not take new leases.
  const claim = db.prepare<[{ owner: string; queue: string; limit: number }], ClaimedEntry>(`
    UPDATE entries SET owner = @owner, deliveries = deliveries + 1
    WHERE EXISTS (SELECT 1 FROM owners WHERE token = @owner)
      AND id IN (
        SELECT id FROM entries WHERE queue = @queue AND owner IS NULL
        ORDER BY priority DESC, id LIMIT @limit
      )
    RETURNING id, priority, body, deliveries
  `);
  return (queue, owner, limit) => {
    const rows = claim.all({ owner, queue, limit });
    // RETURNING has no defined order.
    return rows.sort((a, b) => b.priority - a.priority || a.id - b.id);
  };
}
