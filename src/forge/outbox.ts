/**
 * The status outbox: a status GitHub would not take (5xx, timeouts, rate
 * limits, after the request's own retries) is kept in a small SQLite file and
 * posted later, in order, by a background drainer. While an older status of
 * the same context on the same commit waits there, newer ones queue behind it,
 * so an old status can never overtake a newer one.
 */
import Database from "better-sqlite3";
import { createPrivateFile } from "../queue/sqlite/private-file.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { Wakeable } from "../util/wakeable.js";
import { ForgeError } from "./github.js";
import { type CommitStatus, type Forge, onBranch } from "./types.js";

export interface OutboxEntry {
  readonly id: number;
  readonly repo: string;
  readonly sha: string;
  readonly status: CommitStatus;
}

interface Row {
  id: number;
  repo: string;
  sha: string;
  status: string;
}

/** The durable list. One file may be shared by the processes of one machine. */
export class StatusOutbox {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, string, string, number]>;
  private readonly pendingStatement: Database.Statement<[string, string, string], unknown>;
  private readonly headStatement: Database.Statement<[], Row>;
  private readonly deleteStatement: Database.Statement<[number]>;
  private readonly countStatement: Database.Statement<[], { n: number }>;

  constructor(path: string) {
    createPrivateFile(path);
    this.db = new Database(path, { timeout: 10_000 });
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS statuses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        repo TEXT NOT NULL, sha TEXT NOT NULL, context TEXT NOT NULL,
        status TEXT NOT NULL, added_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS statuses_key ON statuses (repo, sha, context);
    `);
    this.insert = this.db.prepare(
      "INSERT INTO statuses (repo, sha, context, status, added_at) VALUES (?, ?, ?, ?, ?)",
    );
    this.pendingStatement = this.db.prepare(
      "SELECT 1 FROM statuses WHERE repo = ? AND sha = ? AND context = ? LIMIT 1",
    );
    this.headStatement = this.db.prepare("SELECT id, repo, sha, status FROM statuses ORDER BY id LIMIT 1");
    this.deleteStatement = this.db.prepare("DELETE FROM statuses WHERE id = ?");
    this.countStatement = this.db.prepare("SELECT COUNT(*) AS n FROM statuses");
  }

  add(repo: string, sha: string, status: CommitStatus): void {
    this.insert.run(repo, sha, status.context, JSON.stringify(status), Date.now());
  }

  /** Whether a status of this context on this commit waits. */
  has(repo: string, sha: string, context: string): boolean {
    return this.pendingStatement.get(repo, sha, context) !== undefined;
  }

  head(): OutboxEntry | undefined {
    const row = this.headStatement.get();
    if (row === undefined) return undefined;
    return { id: row.id, repo: row.repo, sha: row.sha, status: JSON.parse(row.status) as CommitStatus };
  }

  remove(id: number): void {
    this.deleteStatement.run(id);
  }

  get size(): number {
    return this.countStatement.get()?.n ?? 0;
  }

  close(): void {
    this.db.close();
  }
}

/** Whether trying again later may succeed: GitHub down, slow or rate limiting, or no answer at all. */
export function isTransient(error: unknown): boolean {
  return error instanceof ForgeError && error.retryable;
}

export interface OutboxForgeOptions {
  readonly logger: Logger;
  /** Waits of the drainer after a failed post. */
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
}

/** A Forge whose postStatus falls back to the outbox; everything else goes straight through. */
export class OutboxForge implements Forge {
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly backoffSleep = new Wakeable();
  private readonly backoff: { readonly minMs: number; readonly maxMs: number };
  private readonly logger: Logger;

  constructor(
    private readonly inner: Forge,
    readonly outbox: StatusOutbox,
    options: OutboxForgeOptions,
  ) {
    this.logger = options.logger;
    this.backoff = options.backoff ?? { minMs: 1000, maxMs: 60_000 };
    if (outbox.size > 0) this.kick();
  }

  getPull: Forge["getPull"] = (repo, pull) => this.inner.getPull(repo, pull);
  listOpenPulls: Forge["listOpenPulls"] = (repo) => this.inner.listOpenPulls(repo);
  getStatuses: Forge["getStatuses"] = (repo, sha) => this.inner.getStatuses(repo, sha);
  readFile: Forge["readFile"] = (repo, ref, path) => this.inner.readFile(repo, ref, path);
  isOrgMember: Forge["isOrgMember"] = (org, user) => this.inner.isOrgMember(org, user);
  isOnBranch = (repo: string, branch: string, sha: string) => onBranch(this.inner, repo, branch, sha);
  createIssue: Forge["createIssue"] = (repo, issue) => this.inner.createIssue(repo, issue);
  comment: Forge["comment"] = (repo, issue, body) => this.inner.comment(repo, issue, body);

  /** Resolves once GitHub has the status, or the outbox has it durably. */
  async postStatus(repo: string, sha: string, status: CommitStatus): Promise<void> {
    if (this.outbox.has(repo, sha, status.context)) {
      this.outbox.add(repo, sha, status);
      this.kick();
      return;
    }
    try {
      await this.inner.postStatus(repo, sha, status);
    } catch (error) {
      if (!isTransient(error)) throw error;
      this.outbox.add(repo, sha, status);
      this.logger.warn(
        { repo, sha, context: status.context, state: status.state, err: errorMessage(error) },
        "status not posted; kept in the outbox to post later",
      );
      this.kick();
    }
  }

  /** Resolves once the outbox is empty (or the forge closed). */
  async flushed(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private kick(): void {
    if (this.draining !== undefined || this.closed) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    let delay = this.backoff.minMs;
    let posted = 0;
    for (let entry = this.outbox.head(); entry !== undefined && !this.closed; entry = this.outbox.head()) {
      try {
        await this.inner.postStatus(entry.repo, entry.sha, entry.status);
        this.outbox.remove(entry.id);
        posted += 1;
        delay = this.backoff.minMs;
      } catch (error) {
        const where = { repo: entry.repo, sha: entry.sha, context: entry.status.context };
        if (!isTransient(error)) {
          this.logger.error(
            { ...where, err: errorMessage(error) },
            "outbox: GitHub refused a status; dropped",
          );
          this.outbox.remove(entry.id);
          continue;
        }
        this.logger.warn(
          { ...where, waiting: this.outbox.size, retryInMs: delay, err: errorMessage(error) },
          "outbox: GitHub still unavailable",
        );
        await this.backoffSleep.sleep(delay);
        delay = Math.min(delay * 2, this.backoff.maxMs);
      }
    }
    if (posted > 0) this.logger.info({ posted, waiting: this.outbox.size }, "outbox: statuses posted");
  }

  /** Stops the drainer; waiting statuses stay in the file for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.backoffSleep.wake();
    await this.draining;
    this.outbox.close();
  }
}
