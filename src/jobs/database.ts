/**
 * The recorder's SQLite database of jobs and workers: one row per job (its
 * latest attempt) and per worker. Events are applied idempotently: an older
 * attempt never overwrites a newer one, a run's state only moves forward, and
 * another run of the same attempt (a redelivery) takes over only with a
 * later event time.
 */
import Database from "better-sqlite3";
import type { JobEvent, JobRef } from "../queue/messages.js";
import type {
  ContextFailureRate,
  JobFilter,
  JobHistory,
  JobRecord,
  JobResult,
  JobState,
  WorkerRecord,
} from "./types.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  repo TEXT NOT NULL,
  sha TEXT NOT NULL,
  pull INTEGER,
  context TEXT NOT NULL,
  queue TEXT NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  run TEXT NOT NULL,
  worker TEXT,
  result TEXT,
  description TEXT,
  log_url TEXT,
  queued_at TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  heartbeat_at TEXT,
  heartbeat_ms INTEGER,
  event_at TEXT NOT NULL,
  priority INTEGER,
  entry TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_time ON jobs (queued_at);
CREATE INDEX IF NOT EXISTS jobs_by_repo ON jobs (repo, pull, context);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state);
CREATE TABLE IF NOT EXISTS workers (
  name TEXT PRIMARY KEY,
  capabilities TEXT NOT NULL,
  queues TEXT NOT NULL,
  running TEXT NOT NULL,
  started_at TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL,
  draining INTEGER NOT NULL
);
`;

interface JobRow {
  id: string;
  repo: string;
  sha: string;
  pull: number | null;
  context: string;
  queue: string;
  state: JobState;
  attempt: number;
  run: string;
  worker: string | null;
  result: JobResult | null;
  description: string | null;
  log_url: string | null;
  queued_at: string;
  started_at: string | null;
  ended_at: string | null;
  heartbeat_at: string | null;
  heartbeat_ms: number | null;
  event_at: string;
  priority: number | null;
  entry: string | null;
}

interface WorkerRow {
  name: string;
  capabilities: string;
  queues: string;
  running: string;
  started_at: string;
  heartbeat_at: string;
  draining: number;
}

/** A leased or running job that went silent, with what it takes to queue it again. */
export interface SilentJob {
  readonly job: JobRef;
  readonly worker: string | null;
  readonly priority: number;
  readonly entry: Record<string, unknown> | null;
}

const RANK: Record<JobState, number> = {
  queued: 0,
  leased: 1,
  running: 2,
  done: 3,
  lost: 3,
  superseded: 3,
  cancelled: 3,
};
/** States after which nothing of the same attempt changes the record. */
const FINAL: ReadonlySet<JobState> = new Set(["done", "lost", "superseded"]);

type JobEventOf<T extends JobEvent["type"]> = Extract<JobEvent, { type: T }>;
type AnyJobEvent = JobEventOf<"queued" | "leased" | "started" | "finished">;

function stateOf(event: AnyJobEvent): JobState {
  switch (event.type) {
    case "queued":
      return "queued";
    case "leased":
      return "leased";
    case "started":
      return "running";
    case "finished":
      return event.state;
  }
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    repo: row.repo,
    sha: row.sha,
    pull: row.pull,
    context: row.context,
    queue: row.queue,
    state: row.state,
    attempt: row.attempt,
    worker: row.worker,
    result: row.result,
    description: row.description,
    logUrl: row.log_url,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    heartbeatAt: row.heartbeat_at,
  };
}

function toWorker(row: WorkerRow): WorkerRecord {
  const running = JSON.parse(row.running) as { slug: string }[];
  return {
    name: row.name,
    capabilities: JSON.parse(row.capabilities) as string[],
    queues: JSON.parse(row.queues) as string[],
    runningJobs: running.map((r) => r.slug),
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    draining: row.draining !== 0,
  };
}

export class JobDatabase implements JobHistory {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  /** Apply one event; `receivedMs` is the recorder's clock, the only one heartbeats are judged by. */
  apply(event: JobEvent, receivedMs: number): void {
    if (event.type === "tick") return;
    if (event.type === "worker") this.applyWorker(event, receivedMs);
    else this.db.transaction(() => this.applyJob(event, receivedMs))();
  }

  private row(id: string): JobRow | undefined {
    return this.db.prepare<[string], JobRow>("SELECT * FROM jobs WHERE id = ?").get(id);
  }

  private applyJob(event: AnyJobEvent, receivedMs: number): void {
    const ref = event.job;
    const row = this.row(ref.slug);
    const state = stateOf(event);
    if (row === undefined || ref.attempt > row.attempt) {
      this.insert(event, state, receivedMs);
      return;
    }
    if (ref.attempt < row.attempt || FINAL.has(row.state)) return;
    if (ref.run === row.run) {
      if (RANK[state] <= RANK[row.state]) {
        // A lease that arrives after its run's later events still brings the entry a requeue needs.
        if (event.type === "leased" && row.entry === null) this.keepEntry(row.id, event);
        return;
      }
    } else if (row.run !== "queued" && event.at < row.event_at) {
      return; // a late event of a run that another delivery of this attempt replaced
    } else if (event.type === "queued") {
      return;
    }
    this.update(row, event, state, receivedMs);
  }

  private keepEntry(id: string, event: JobEventOf<"leased">): void {
    this.db
      .prepare("UPDATE jobs SET entry = ?, priority = ? WHERE id = ?")
      .run(JSON.stringify(event.entry), event.priority, id);
  }

  private insert(event: AnyJobEvent, state: JobState, receivedMs: number): void {
    const ref = event.job;
    this.db
      .prepare(
        `INSERT OR REPLACE INTO jobs (id, repo, sha, pull, context, queue, state, attempt, run, queued_at, event_at)
         VALUES (@id, @repo, @sha, @pull, @context, @queue, 'queued', @attempt, 'queued', @at, @at)`,
      )
      .run({ ...ref, id: ref.slug, at: event.at });
    const row = this.row(ref.slug) as JobRow;
    if (state !== "queued") this.update(row, event, state, receivedMs);
  }

  private update(row: JobRow, event: AnyJobEvent, state: JobState, receivedMs: number): void {
    const fields: Partial<JobRow> = { state, run: event.job.run, event_at: event.at };
    if (event.type !== "queued") {
      fields.worker = event.worker;
      fields.heartbeat_ms = receivedMs;
      fields.heartbeat_at = new Date(receivedMs).toISOString();
    }
    if (event.type === "leased") {
      Object.assign(fields, {
        priority: event.priority,
        entry: JSON.stringify(event.entry),
        started_at: null,
        ended_at: null,
        result: null,
        description: null,
      });
    }
    if (event.type === "started") Object.assign(fields, { started_at: event.at, log_url: event.logUrl });
    if (event.type === "finished") {
      Object.assign(fields, { ended_at: event.at, result: event.result, description: event.description });
      if (event.logUrl !== null) fields.log_url = event.logUrl;
    }
    const names = Object.keys(fields);
    this.db
      .prepare(`UPDATE jobs SET ${names.map((n) => `${n} = @${n}`).join(", ")} WHERE id = @id`)
      .run({ ...fields, id: row.id });
  }

  private applyWorker(event: JobEventOf<"worker">, receivedMs: number): void {
    const w = event.worker;
    const heartbeatAt = new Date(receivedMs).toISOString();
    const beat = this.db.prepare(
      `UPDATE jobs SET heartbeat_ms = @ms, heartbeat_at = @at
       WHERE id = @slug AND attempt = @attempt AND run = @run AND state IN ('leased', 'running')`,
    );
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR REPLACE INTO workers (name, capabilities, queues, running, started_at, heartbeat_at, draining)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          w.name,
          JSON.stringify(w.capabilities),
          JSON.stringify(w.queues),
          JSON.stringify(w.running),
          w.startedAt,
          heartbeatAt,
          w.draining ? 1 : 0,
        );
      for (const run of w.running) beat.run({ ...run, ms: receivedMs, at: heartbeatAt });
    })();
  }

  /** Leased or running jobs whose last heartbeat (recorder clock) is older than `beforeMs`. */
  silentSince(beforeMs: number): SilentJob[] {
    const rows = this.db
      .prepare<[number], JobRow>(
        "SELECT * FROM jobs WHERE state IN ('leased', 'running') AND heartbeat_ms < ? ORDER BY heartbeat_ms",
      )
      .all(beforeMs);
    return rows.map((row) => ({
      job: {
        slug: row.id,
        attempt: row.attempt,
        run: row.run,
        repo: row.repo,
        sha: row.sha,
        pull: row.pull,
        context: row.context,
        queue: row.queue,
      },
      worker: row.worker,
      priority: row.priority ?? 5,
      entry: row.entry === null ? null : (JSON.parse(row.entry) as Record<string, unknown>),
    }));
  }

  /** Mark a silent run lost; false when it was heard from (or replaced) meanwhile. */
  markLost(job: JobRef, description: string, final: boolean): boolean {
    const changed = this.db
      .prepare(
        `UPDATE jobs SET state = 'lost', ended_at = @at, event_at = @at, result = @result, description = @description
         WHERE id = @slug AND attempt = @attempt AND run = @run AND state IN ('leased', 'running')`,
      )
      .run({
        slug: job.slug,
        attempt: job.attempt,
        run: job.run,
        at: new Date().toISOString(),
        result: final ? "error" : null,
        description,
      });
    return changed.changes === 1;
  }

  async listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    for (const key of ["repo", "pull", "context", "state", "result"] as const) {
      const value = filter[key];
      if (value === undefined) continue;
      where.push(`${key} = @${key}`);
      params[key] = value;
    }
    const sql = `SELECT * FROM jobs ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY queued_at DESC, id DESC LIMIT @limit OFFSET @offset`;
    const rows = this.db
      .prepare<Record<string, string | number>, JobRow>(sql)
      .all({ ...params, limit: filter.limit ?? 100, offset: filter.offset ?? 0 });
    return rows.map(toRecord);
  }

  async getJob(id: string): Promise<JobRecord | null> {
    const row = this.row(id);
    return row === undefined ? null : toRecord(row);
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.db.prepare<[], WorkerRow>("SELECT * FROM workers ORDER BY name").all().map(toWorker);
  }

  async failureRates(limit = 20): Promise<ContextFailureRate[]> {
    return this.db
      .prepare<[number], ContextFailureRate>(
        `SELECT repo, context, COUNT(*) AS runs, SUM(result = 'failure') AS failures
         FROM jobs WHERE state = 'done' GROUP BY repo, context
         ORDER BY CAST(failures AS REAL) / runs DESC, failures DESC, repo, context LIMIT ?`,
      )
      .all(limit);
  }
}
