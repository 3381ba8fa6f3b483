/**
 * Settling one leased entry. Each statement matches the lease exactly (entry,
 * owner, delivery count), so a lease that was reclaimed and handed to someone
 * else can't be settled by its former holder.
 */
import type { SqliteDatabase } from "./schema.js";

export interface LeaseRef {
  readonly id: number;
  readonly owner: string;
  readonly deliveries: number;
}

/** Returns false when the lease is no longer held. */
export type SettleEntry = (lease: LeaseRef) => boolean;

/** ack, and nack without requeue: the entry is gone. */
export function prepareDeleteLeased(db: SqliteDatabase): SettleEntry {
  const remove = db.prepare<[LeaseRef]>(
    "DELETE FROM entries WHERE id = @id AND owner = @owner AND deliveries = @deliveries",
  );
  return (lease) => remove.run(lease).changes === 1;
}

/** nack with requeue: the entry waits again at its old place (priority, then publish order). */
export function prepareRequeueLeased(db: SqliteDatabase): SettleEntry {
  const requeue = db.prepare<[LeaseRef]>(
    "UPDATE entries SET owner = NULL WHERE id = @id AND owner = @owner AND deliveries = @deliveries",
  );
  return (lease) => requeue.run(lease).changes === 1;
}
