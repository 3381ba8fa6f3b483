/**
 * hangar's own record of every job and worker: the state machine the
 * reliability work, the dashboard and the metrics share. Status descriptions
 * on GitHub are output; this is the truth.
 *
 *   queued -> leased -> running -> done
 *                  \-> lost (worker stopped heartbeating; requeued as a new attempt)
 *   queued/running -> superseded (the PR's head moved) | cancelled
 */

export type JobState = "queued" | "leased" | "running" | "done" | "lost" | "superseded" | "cancelled";
export type JobResult = "success" | "failure" | "error";

export interface JobRecord {
  /** The job's slug: unique per run of a context on a commit. */
  readonly id: string;
  readonly repo: string;
  readonly sha: string;
  readonly pull: number | null;
  readonly context: string;
  readonly queue: string;
  readonly state: JobState;
  /** 1 for the first run; retries of infrastructure failures and lost jobs count up. */
  readonly attempt: number;
  readonly worker: string | null;
  readonly result: JobResult | null;
  readonly description: string | null;
  readonly logUrl: string | null;
  /** ISO 8601 times. */
  readonly queuedAt: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly heartbeatAt: string | null;
}

export interface WorkerRecord {
  readonly name: string;
  readonly capabilities: readonly string[];
  readonly queues: readonly string[];
  readonly runningJobs: readonly string[];
  readonly startedAt: string;
  readonly heartbeatAt: string;
  readonly draining: boolean;
}

export interface JobFilter {
  readonly repo?: string;
  readonly pull?: number;
  readonly context?: string;
  readonly state?: JobState;
  readonly result?: JobResult;
  readonly limit?: number;
  readonly offset?: number;
}

export interface ContextFailureRate {
  readonly repo: string;
  readonly context: string;
  readonly runs: number;
  readonly failures: number;
}

/** Read side, for the dashboard and metrics. */
export interface JobHistory {
  listJobs(filter?: JobFilter): Promise<JobRecord[]>;
  getJob(id: string): Promise<JobRecord | null>;
  listWorkers(): Promise<WorkerRecord[]>;
  /** Per context, most failures (relative) first. */
  failureRates(limit?: number): Promise<ContextFailureRate[]>;
}
