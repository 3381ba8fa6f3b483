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
  })
  .loose();
export type Job = z.infer<typeof jobSchema>;

const jobEntrySchema = z.object({ job: jobSchema, human: z.string().optional() }).loose();
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
