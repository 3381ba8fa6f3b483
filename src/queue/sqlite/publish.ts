/**
 * Publishing with group commit: every publish issued in one turn of the event
 * loop goes into one IMMEDIATE transaction, committed in the check phase that
 * follows, and each publish resolves once that transaction committed. A busy
 * webhook pays one commit (WAL frame headers, locks, wake-up) for the
 * deliveries that arrived together instead of one each; an idle one adds no
 * wait, the commit runs right after the current callbacks.
 */
import type { SqliteDatabase } from "./schema.js";

interface PendingEntry {
  readonly queue: string;
  readonly priority: number;
  readonly body: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit {
  private pending: PendingEntry[] = [];
  private scheduled = false;
  private readonly commitBatch: (batch: readonly PendingEntry[]) => void;

  /** `onCommitted` learns which queues got entries, once per commit. */
  constructor(
    db: SqliteDatabase,
    private readonly onCommitted: (queues: ReadonlySet<string>) => void,
  ) {
    const insert = db.prepare<[string, number, Buffer, number]>(
      "INSERT INTO entries (queue, priority, body, published_at) VALUES (?, ?, ?, ?)",
    );
    const transaction = db.transaction((batch: readonly PendingEntry[]) => {
      const now = Date.now();
      for (const entry of batch) insert.run(entry.queue, entry.priority, entry.body, now);
    });
    this.commitBatch = (batch) => transaction.immediate(batch);
  }

  /** Resolves once the entry is committed; rejects with the commit's error. */
  add(queue: string, priority: number, body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ queue, priority, body, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  /** Commits what is pending now (also called before the database closes). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      this.commitBatch(batch);
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    this.onCommitted(new Set(batch.map((entry) => entry.queue)));
    for (const entry of batch) entry.resolve();
  }
}
