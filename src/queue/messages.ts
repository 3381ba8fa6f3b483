/**
 * Wire formats of queue entries, compatible with Cockpit's bots.
 * Parsing happens where entries enter a worker: a bad entry gets an error
 * naming the field, never a crash deep inside.
 */
import { z } from "zod";

/** Queue `webhook`: the GitHub delivery, payload kept as received. */
export const webhookEnvelopeSchema = z
  .object({
    event: z.string().min(1),
    request: z.record(z.string(), z.unknown()),
    delivery: z.string().optional(),
    /** hangar's own: when the webhook accepted the delivery. */
    received: z.iso.datetime().optional(),
  })
  .loose();
export type WebhookEnvelope = z.infer<typeof webhookEnvelopeSchema>;

const subjectSchema = z
  .object({
    repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name"),
    sha: z
      .string()
      .regex(/^[0-9a-f]{40}$/, "expected a 40-digit hex commit sha")
      .optional(),
    branch: z.string().optional(),
    pull: z.number().int().positive().nullable().optional(),
  })
  .loose();

/** A test job. Only repo, sha and context can be relied on (entries from bots' tests-scan). */
export const jobSchema = z
  .object({
    repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name"),
    sha: z.string().regex(/^[0-9a-f]{40}$/, "expected a 40-digit hex commit sha"),
    context: z.string().min(1),
    pull: z.number().int().positive().nullable().optional(),
    slug: z.string().nullable().optional(),
    title: z.string().nullable().optional(),
    env: z.record(z.string(), z.string()).optional(),
    secrets: z.array(z.string()).optional(),
    command_subject: subjectSchema.nullable().optional(),
    container: z.string().nullable().optional(),
    timeout: z.number().positive().nullable().optional(),
    report: z.record(z.string(), z.unknown()).nullable().optional(),
    command: z.array(z.string()).nullable().optional(),
    capabilities: z.array(z.string()).optional(),
    /**
     * hangar's own: which run of this slug the entry is (1 when absent). Reruns
     * after an infrastructure failure or a lost worker are new entries with the
     * same slug and the next attempt; a worker drops an entry whose attempt was
     * retired meanwhile (see docs/job-states.md).
     */
    attempt: z.number().int().positive().optional(),
    /**
     * hangar's own: `false` marks a job for an untrusted author's code (e.g. run
     * after `/hangar approve`); the runner gives it no secrets and no network,
     * whatever `secrets` names. A worker believes this field (and `secrets`,
     * `env`, `network`) only in an entry signed by hangar's scan; unsigned
     * entries run untrusted unless the worker accepts them (see signing.ts).
     */
    trusted: z.boolean().optional(),
    /** hangar's own: `false` keeps a trusted job off the network (untrusted jobs never have it). */
    network: z.boolean().optional(),
  })
  .loose();
export type Job = z.infer<typeof jobSchema>;

/** `signature`: hangar's own, scan's HMAC of the job (see signing.ts); bots ignore it. */
const jobEntrySchema = z
  .object({ job: jobSchema, human: z.string().optional(), signature: z.string().optional() })
  .loose();
const commandEntrySchema = z.object({ command: z.string() }).loose();
export const taskEntrySchema = z.union([jobEntrySchema, commandEntrySchema]);

export type TaskEntry =
  | { readonly kind: "job"; readonly job: Job; readonly human?: string }
  | { readonly kind: "command"; readonly command: string };

/** A task-queue entry: a job, or a bots maintenance command. */
export function parseTaskEntry(body: Buffer, queue: string): TaskEntry {
  const entry = parseEntry(taskEntrySchema, body, queue);
  if ("job" in entry && typeof entry.job === "object") {
    const parsed = jobEntrySchema.parse(entry);
    return { kind: "job", job: parsed.job, ...(parsed.human !== undefined ? { human: parsed.human } : {}) };
  }
  return { kind: "command", command: commandEntrySchema.parse(entry).command };
}

export class BadEntryError extends Error {
  override readonly name = "BadEntryError";
}

/** Parse a queue body, naming the first bad field on failure. */
export function parseEntry<T>(schema: z.ZodType<T>, body: Buffer, queue: string): T {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new BadEntryError(`entry in queue ${queue} is not JSON: ${(error as Error).message}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") : "(entry)";
    throw new BadEntryError(`entry in queue ${queue} is invalid at ${where}: ${issue?.message ?? "unknown"}`);
  }
  return result.data;
}

/**
 * Queue `hangar-events` (queue.names.events): what workers tell the recorder
 * about jobs and themselves. hangar's own format, JSON `{event, human}`;
 * events may arrive twice or out of order, so each carries the job's slug,
 * attempt and run (one worker's handling of one delivery) and a time.
 */
const jobRefSchema = z
  .object({
    slug: z.string().min(1),
    attempt: z.number().int().positive(),
    run: z.string().min(1),
    repo: z.string().min(1),
    sha: z.string().min(1),
    pull: z.number().int().positive().nullable(),
    context: z.string().min(1),
    queue: z.string().min(1),
  })
  .loose();
export type JobRef = z.infer<typeof jobRefSchema>;

const at = z.iso.datetime();

export const jobEventSchema = z.discriminatedUnion("type", [
  /** A new attempt is in a task queue (published by whoever requeued it). */
  z.object({ type: z.literal("queued"), at, job: jobRefSchema }).loose(),
  /** A worker took the entry and will run it; carries the entry so a lost job can be requeued. */
  z
    .object({
      type: z.literal("leased"),
      at,
      worker: z.string().min(1),
      job: jobRefSchema,
      priority: z.number().int().min(0).max(9),
      entry: z.record(z.string(), z.unknown()),
    })
    .loose(),
  z
    .object({ type: z.literal("started"), at, worker: z.string(), job: jobRefSchema, logUrl: z.string() })
    .loose(),
  /** The run ended: done (its result is on GitHub), superseded, or cancelled (entry requeued). */
  z
    .object({
      type: z.literal("finished"),
      at,
      worker: z.string(),
      job: jobRefSchema,
      state: z.enum(["done", "superseded", "cancelled"]),
      result: z.enum(["success", "failure", "error"]),
      description: z.string(),
      logUrl: z.string().nullable(),
    })
    .loose(),
  /** A worker's heartbeat: itself and the runs it holds (their heartbeat too). */
  z
    .object({
      type: z.literal("worker"),
      at,
      worker: z
        .object({
          name: z.string().min(1),
          capabilities: z.array(z.string()),
          queues: z.array(z.string()),
          running: z.array(
            z.object({ slug: z.string(), attempt: z.number().int(), run: z.string() }).loose(),
          ),
          startedAt: at,
          draining: z.boolean(),
        })
        .loose(),
    })
    .loose(),
  /** The recorder's probe of the events queue itself: while its own ticks come back, silence means loss. */
  z.object({ type: z.literal("tick"), at, recorder: z.string(), sent: z.number() }).loose(),
]);
export type JobEvent = z.infer<typeof jobEventSchema>;

export const jobEventEntrySchema = z.object({ event: jobEventSchema, human: z.string().optional() }).loose();
