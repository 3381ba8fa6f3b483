/**
 * The record of accepted X-GitHub-Delivery ids, so a delivery GitHub sends
 * again (a redelivery, or a retry after a timeout) is acknowledged without
 * being queued twice. A small SQLite table (WAL, synchronous=NORMAL: an insert
 * survives a killed process, and costs microseconds), pruned by age and count.
 */
import Database from "better-sqlite3";
import { createPrivateFile } from "../queue/sqlite/private-file.js";

export interface AcceptedOptions {
  readonly retentionMs: number;
  readonly maxEntries: number;
  readonly now?: () => number;
}

/** Pruning runs every this many inserts (and at open). */
const PRUNE_EVERY = 5000;

export class AcceptedDeliveries {
  private readonly db: Database.Database;
  private readonly hasStatement: Database.Statement<[string], unknown>;
  private readonly addStatement: Database.Statement<[string, number]>;
  private readonly pruneOld: Database.Statement<[number]>;
  private readonly pruneMany: Database.Statement<[number]>;
  private readonly now: () => number;
  private readonly addBatch: (batch: ReadonlyMap<string, number>) => void;
  private sincePrune = 0;
  /** Ids waiting for the next commit, with when they were accepted. */
  private pending = new Map<string, number>();
  private waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(
    path: string,
    private readonly options: AcceptedOptions,
  ) {
    createPrivateFile(path);
    this.db = new Database(path, { timeout: 10_000 });
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS accepted (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, at INTEGER NOT NULL)",
    );
    this.db.exec("CREATE INDEX IF NOT EXISTS accepted_at ON accepted (at)");
    this.hasStatement = this.db.prepare("SELECT 1 FROM accepted WHERE id = ?");
    this.addStatement = this.db.prepare("INSERT OR IGNORE INTO accepted (id, at) VALUES (?, ?)");
    this.pruneOld = this.db.prepare("DELETE FROM accepted WHERE at < ?");
    this.pruneMany = this.db.prepare("DELETE FROM accepted WHERE seq <= (SELECT MAX(seq) FROM accepted) - ?");
    this.now = options.now ?? Date.now;
    this.addBatch = this.db.transaction((batch: ReadonlyMap<string, number>) => {
      for (const [id, at] of batch) this.addStatement.run(id, at);
    });
    this.prune();
  }

  has(id: string): boolean {
    return this.pending.has(id) || this.hasStatement.get(id) !== undefined;
  }

  /** Records an id; resolves once it is committed. */
  add(id: string): Promise<void> {
    if (this.pending.size === 0) setImmediate(() => this.flush());
    this.pending.set(id, this.now());
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Commits the ids added since the last commit. */
  flush(): void {
    const batch = this.pending;
    const waiting = this.waiting;
    if (batch.size === 0) return;
    this.pending = new Map();
    this.waiting = [];
    try {
      this.addBatch(batch);
    } catch (error) {
      for (const waiter of waiting) waiter.reject(error);
      return;
    }
    for (const waiter of waiting) waiter.resolve();
    this.sincePrune += batch.size;
    if (this.sincePrune >= PRUNE_EVERY) this.prune();
  }

  prune(): void {
    this.flush();
    this.sincePrune = 0;
    this.pruneOld.run(this.now() - this.options.retentionMs);
    this.pruneMany.run(this.options.maxEntries);
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
