/** Removing a queue's waiting entries; leased ones stay with their consumers. */
import type { SqliteDatabase } from "./schema.js";

export type PurgeQueue = (queue: string) => number;

export function preparePurgeQueue(db: SqliteDatabase): PurgeQueue {
  const purge = db.prepare<[string]>("DELETE FROM entries WHERE queue = ? AND owner IS NULL");
  return (queue) => purge.run(queue).changes;
}
