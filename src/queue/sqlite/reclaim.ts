/**
 * Returning the leases of dead owners to their queues. An owner is dead when
 * its pid no longer runs on this machine (found within one poll, typically
 * after a SIGKILL), or, as a safety net for owners elsewhere and for reused
 * pids, when it stopped renewing its heartbeat for longer than the lease TTL.
 * A live owner is never judged by anything else, so its leases are never taken.
 */
import { isProcessAlive } from "../../util/process.js";
import { type OwnerIdentity, sharesPidSpace } from "./identity.js";
import type { OwnerRow, OwnerStatements } from "./owners.js";
import type { ReleaseStatements } from "./release.js";
import type { SqliteDatabase } from "./schema.js";

export interface ReclaimResult {
  readonly owners: number;
  readonly entries: number;
}

export type ReclaimDeadLeases = () => ReclaimResult;

export function prepareReclaimDeadLeases(
  db: SqliteDatabase,
  statements: { owners: OwnerStatements; release: ReleaseStatements },
  self: OwnerIdentity,
  leaseTtlMs: number,
): ReclaimDeadLeases {
  const { owners, release } = statements;
  const isDead = (owner: OwnerRow, now: number): boolean =>
    owner.token !== self.token &&
    (owner.heartbeat < now - leaseTtlMs || (sharesPidSpace(owner, self) && !isProcessAlive(owner.pid)));

  const releaseDead = db.transaction((dead: OwnerRow[]): ReclaimResult => {
    let removed = 0;
    let entries = 0;
    for (const owner of dead) {
      // Skipped if it renewed its heartbeat since we looked: then it lives.
      if (!owners.removeIfUnchanged(owner)) continue;
      removed += 1;
      entries += release.releaseOwner(owner.token);
    }
    entries += release.releaseOrphans();
    return { owners: removed, entries };
  });

  return () => {
    // Reads first, without the write lock: most of the time there is nothing to do.
    const now = Date.now();
    const dead = owners.list().filter((owner) => isDead(owner, now));
    if (dead.length === 0 && !release.hasOrphans()) return { owners: 0, entries: 0 };
    return releaseDead.immediate(dead);
  };
}
