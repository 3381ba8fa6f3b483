/** Read-only views of a queue: counts and the head of its waiting entries. */
import type { PeekedEntry, QueueInfo } from "../types.js";
import type { SqliteDatabase } from "./schema.js";

export type InspectQueue = (queue: string, limit: number) => QueueInfo;

export function prepareInspectQueue(db: SqliteDatabase): InspectQueue {
  const counts = db.prepare<[string], { ready: number | null; unacked: number | null }>(
    `SELECT sum(owner IS NULL) AS ready, sum(owner IS NOT NULL) AS unacked FROM entries WHERE queue = ?`,
  );
  const head = db.prepare<[string, number], { priority: number; body: Buffer; deliveries: number }>(
    `SELECT priority, body, deliveries FROM entries WHERE queue = ? AND owner IS NULL
     ORDER BY priority DESC, id LIMIT ?`,
  );
  // One read transaction: counts and entries come from the same snapshot.
  return db.transaction((queue: string, limit: number): QueueInfo => {
    const count = counts.get(queue);
    const entries: PeekedEntry[] = head.all(queue, limit).map((row) => ({
      priority: row.priority,
      body: row.body,
      redelivered: row.deliveries > 0,
    }));
    return { name: queue, ready: count?.ready ?? 0, unacked: count?.unacked ?? 0, entries };
  });
}
