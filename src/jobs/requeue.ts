/** Queueing the next attempt of a job: retire the current one first, so a stale copy of it never runs. */
import type { Forge } from "../forge/types.js";
import type { JobRef } from "../queue/messages.js";
import type { QueueBackend } from "../queue/types.js";
import { retrying } from "../runner/outcome.js";
import type { Store } from "../store/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { type JobEventPublisher, now } from "./events.js";
import { retire } from "./fence.js";

export interface NextAttempt {
  readonly queue: QueueBackend;
  readonly store: Store;
  readonly forge: Forge;
  readonly events: JobEventPublisher;
  readonly logger: Logger;
  /** The task entry as it was queued (`{job, human, signature}`). */
  readonly entry: Readonly<Record<string, unknown>>;
  readonly job: JobRef;
  readonly priority: number;
  readonly maxAttempts: number;
  /** Why, for the pending status: "worker x lost", "the job could not start". */
  readonly reason: string;
}

/** Returns the new attempt's reference (its run is "queued" until a worker leases it). */
export async function queueNextAttempt(input: NextAttempt): Promise<JobRef> {
  const { job } = input;
  const next: JobRef = { ...job, attempt: job.attempt + 1, run: "queued" };
  await retire(input.store, job.slug, job.attempt, input.reason);
  const original = (input.entry.job ?? {}) as Record<string, unknown>;
  // Everything but the attempt stays as it was, so scan's signature (beside the job) still holds.
  const entry = { ...input.entry, job: { ...original, slug: job.slug, attempt: next.attempt } };
  await input.queue.publish(job.queue, JSON.stringify(entry), { priority: input.priority });
  void input.events.publish({ type: "queued", at: now(), job: next });
  input.logger.warn(
    { slug: job.slug, attempt: next.attempt, reason: input.reason },
    "infrastructure failure: queued the next attempt",
  );
  await input.forge
    .postStatus(job.repo, job.sha, {
      context: job.context,
      state: "pending",
      description: retrying(input.reason, next.attempt, input.maxAttempts),
    })
    .catch((error: unknown) =>
      input.logger.warn({ err: errorMessage(error), slug: job.slug }, "could not post the retry status"),
    );
  return next;
}
