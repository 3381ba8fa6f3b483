/** INSERT of a new entry: one prepared statement, one short autocommit transaction. */
import type { SqliteDatabase } from "./schema.js";

export type InsertEntry = (queue: string, priority: number, body: Buffer) => void;

export function prepareInsertEntry(db: SqliteDatabase): InsertEntry {
  const insert = db.prepare<[string, number, Buffer, number]>(
    "INSERT INTO entries (queue, priority, body, published_at) VALUES (?, ?, ?, ?)",
  );
  return (queue, priority, body) => {
    insert.run(queue, priority, body, Date.now());
  };
}
