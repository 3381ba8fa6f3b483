/**
 * Job history for dashboard tests, written the way production writes it:
 * job and worker events applied to the recorder's SQLite database.
 */
import type { JobDatabase } from "../../src/jobs/database.js";
import type { JobResult } from "../../src/jobs/types.js";
import type { JobRef } from "../../src/queue/messages.js";

export const SHA = "0123456789abcdef0123456789abcdef01234567";

export interface JobSpec {
  readonly id: string;
  readonly repo?: string;
  readonly sha?: string;
  readonly pull?: number | null;
  readonly context?: string;
  readonly queue?: string;
  /** How far the job got. */
  readonly until?: "queued" | "leased" | "running" | "done";
  readonly result?: JobResult;
  readonly description?: string;
  readonly worker?: string;
  readonly queuedAt?: string;
  /** Seconds from queued to started, and from started to ended. */
  readonly waitSeconds?: number;
  readonly runSeconds?: number;
  readonly logUrl?: string;
}

const later = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

export function jobRef(spec: JobSpec, run: string): JobRef {
  return {
    slug: spec.id,
    attempt: 1,
    run,
    repo: spec.repo ?? "acme/widget",
    sha: spec.sha ?? SHA,
    pull: spec.pull === undefined ? 7 : spec.pull,
    context: spec.context ?? "debian/unit",
    queue: spec.queue ?? "public",
  };
}

export function recordJob(db: JobDatabase, spec: JobSpec): void {
  const until = spec.until ?? "done";
  const worker = spec.worker ?? "w1";
  const queuedAt = spec.queuedAt ?? "2024-05-01T10:00:00.000Z";
  const startedAt = later(queuedAt, spec.waitSeconds ?? 5);
  const endedAt = later(startedAt, spec.runSeconds ?? 65);
  const logUrl = spec.logUrl ?? `http://store.invalid/${spec.id}/log.html`;
  const received = Date.now();
  db.apply({ type: "queued", at: queuedAt, job: jobRef(spec, "queued") }, received);
  if (until === "queued") return;
  const job = jobRef(spec, `${spec.id}-run`);
  db.apply({ type: "leased", at: startedAt, worker, job, priority: 5, entry: {} }, received);
  if (until === "leased") return;
  db.apply({ type: "started", at: startedAt, worker, job, logUrl }, received);
  if (until === "running") return;
  const result = spec.result ?? "success";
  db.apply(
    {
      type: "finished",
      at: endedAt,
      worker,
      job,
      state: "done",
      result,
      description: spec.description ?? `${result === "success" ? "Success" : "Failed"} [${worker}]`,
      logUrl,
    },
    received,
  );
}

export interface WorkerSpec {
  readonly name: string;
  readonly capabilities?: readonly string[];
  readonly queues?: readonly string[];
  readonly running?: readonly string[];
  readonly draining?: boolean;
  /** The recorder's clock at the heartbeat (ms); now by default. */
  readonly receivedMs?: number;
}

export function recordWorker(db: JobDatabase, spec: WorkerSpec): void {
  db.apply(
    {
      type: "worker",
      at: new Date().toISOString(),
      worker: {
        name: spec.name,
        capabilities: [...(spec.capabilities ?? ["kvm"])],
        queues: [...(spec.queues ?? ["public", "public-kvm"])],
        running: (spec.running ?? []).map((slug) => ({ slug, attempt: 1, run: `${slug}-run` })),
        startedAt: "2024-05-01T09:00:00.000Z",
        draining: spec.draining ?? false,
      },
    },
    spec.receivedMs ?? Date.now(),
  );
}
