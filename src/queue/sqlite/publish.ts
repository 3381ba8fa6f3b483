/**
 * Publishing with group commit: publishes that arrive while a commit is under
 * way, or in the same turn of the event loop, go into the next transaction
 * together, and each publish resolves once its transaction committed. A busy
 * webhook pays one commit (WAL frame headers, locks, wake-up) for the
 * deliveries that arrived together instead of one each; an idle one waits for
 * nothing, its commit starts right after the current callbacks.
 */
import type { SqliteDatabase } from "./schema.js";

export interface NewEntry {
  readonly queue: string;
  readonly priority: number;
  readonly body: Uint8Array;
}

interface PendingEntry extends NewEntry {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Commits a batch in one transaction: returns (or resolves) once it is durable, throws when it is not. */
export type CommitBatch = (batch: readonly NewEntry[]) => void | Promise<void>;

/** A transaction on `db` that inserts a batch of entries. */
export function prepareInsertBatch(db: SqliteDatabase): (batch: readonly NewEntry[]) => void {
  const insert = db.prepare<[string, number, Uint8Array, number]>(
    "INSERT INTO entries (queue, priority, body, published_at) VALUES (?, ?, ?, ?)",
  );
  const transaction = db.transaction((batch: readonly NewEntry[]) => {
    const now = Date.now();
    for (const entry of batch) insert.run(entry.queue, entry.priority, entry.body, now);
  });
  return (batch) => transaction.immediate(batch);
}

export class GroupCommit {
  private pending: PendingEntry[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | undefined;

  /** `onCommitted` learns of each committed batch. */
  constructor(
    private readonly commitBatch: CommitBatch,
    private readonly onCommitted: (batch: readonly NewEntry[]) => void,
  ) {}

  /** Resolves once the entry is committed; rejects with the commit's error. */
  add(queue: string, priority: number, body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ queue, priority, body, resolve, reject });
      this.schedule();
    });
  }

  /** Commits everything pending and whatever arrives meanwhile; resolves when nothing is left (before closing). */
  async flush(): Promise<void> {
    while (this.inFlight !== undefined || this.pending.length > 0) {
      await (this.inFlight ?? this.commitPending());
    }
  }

  private commitPending(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.inFlight = this.commit(batch).finally(() => {
      this.inFlight = undefined;
      // What arrived during that commit forms the next batch, after the event loop had its turn.
      if (this.pending.length > 0) this.schedule();
    });
    return this.inFlight;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight !== undefined) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.inFlight === undefined && this.pending.length > 0) void this.commitPending();
    });
  }

  private async commit(batch: readonly PendingEntry[]): Promise<void> {
    try {
      await this.commitBatch(batch);
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    this.onCommitted(batch);
    for (const entry of batch) entry.resolve();
  }
}
