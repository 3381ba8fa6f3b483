/** Handing leased entries back to their queues in bulk. */
import type { SqliteDatabase } from "./schema.js";

export interface ReleaseStatements {
  /** All leases of one owner; returns how many. */
  releaseOwner(token: string): number;
  /** Leases whose owner has no registration any more; returns how many. */
  releaseOrphans(): number;
  /** Whether any orphaned lease exists (a cheap read before taking the write lock). */
  hasOrphans(): boolean;
  unregister(token: string): void;
}

export function prepareReleaseStatements(db: SqliteDatabase): ReleaseStatements {
  const releaseOwner = db.prepare<[string]>("UPDATE entries SET owner = NULL WHERE owner = ?");
  const orphanFilter = "owner IS NOT NULL AND owner NOT IN (SELECT token FROM owners)";
  const releaseOrphans = db.prepare(`UPDATE entries SET owner = NULL WHERE ${orphanFilter}`);
  const hasOrphans = db.prepare(`SELECT 1 FROM entries WHERE ${orphanFilter} LIMIT 1`).pluck();
  const unregister = db.prepare<[string]>("DELETE FROM owners WHERE token = ?");
  return {
    releaseOwner: (token) => releaseOwner.run(token).changes,
    releaseOrphans: () => releaseOrphans.run().changes,
    hasOrphans: () => hasOrphans.get() !== undefined,
    unregister: (token) => {
      unregister.run(token);
    },
  };
}
