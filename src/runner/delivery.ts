/**
 * One task entry through its job states, on this worker: check it is still
 * wanted (not done, not retired, not superseded), lease it, run it, and
 * decide what GitHub sees: the result, a retry after an infrastructure
 * failure, "Cancelled" on shutdown (the entry goes back to the queue), or
 * nothing when a newer attempt replaced this one meanwhile.
 */
import { createHash, randomUUID } from "node:crypto";
import { cancelRequested } from "../jobs/control.js";
import { now } from "../jobs/events.js";
import { isDone, isRetired, markDone } from "../jobs/fence.js";
import { queueNextAttempt } from "../jobs/requeue.js";
import type { Job, JobRef } from "../queue/messages.js";
import type { Delivery } from "../queue/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { type JobDeps, type JobEnding, runJob, type Verdict } from "./job.js";
import { CANCELLED, exhausted, type FinalStatus, supersededBy } from "./outcome.js";
import { StopRequest, stopReason } from "./stop.js";
import { movedHead, watchHead } from "./supersede.js";
import type { WorkerOptions } from "./worker.js";

/** The job's identity across redeliveries: its slug, or one derived from the entry itself. */
export function jobSlug(job: Job, body: Buffer): string {
  if (job.slug) return job.slug;
  const what = job.pull ? `pull-${job.pull}` : "commit";
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 10);
  return `${what}-${job.sha.slice(0, 8)}-${job.context.replace(/[^\w.-]+/g, "-")}-${hash}`;
}

/** Where an attempt's log lives: the slug's folder for the first, a sibling for each rerun. */
export function logSlug(slug: string, attempt: number): string {
  return attempt > 1 ? `${slug}-attempt-${attempt}` : slug;
}

/** A job this worker holds: what the heartbeat reports and what shutdown stops. */
export interface HeldJob {
  readonly job: Job;
  readonly ref: JobRef;
  readonly controller: AbortController;
}

/**
 * This worker's claims on jobs, by slug and attempt, from the moment it takes an entry (before
 * anything is awaited). The same entry can come back while the first copy still runs (its ack
 * was lost with a broker connection, or scan queued it twice): the copy joins the run and is
 * settled as it is, never run a second time.
 */
const claims = new WeakMap<Map<string, HeldJob>, Map<string, Promise<Settle>>>();

function claimsOf(held: Map<string, HeldJob>): Map<string, Promise<Settle>> {
  let found = claims.get(held);
  if (found === undefined) {
    found = new Map();
    claims.set(held, found);
  }
  return found;
}

export type Settle = "ack" | "requeue";

/** A redelivered job whose result is already on GitHub ran to the end before its worker died. */
async function alreadyReported(deps: JobDeps, job: Job): Promise<boolean> {
  try {
    const status = (await deps.forge.getStatuses(job.repo, job.sha)).get(job.context);
    return status?.state === "success" || status?.state === "failure";
  } catch {
    return false;
  }
}

/** Why an entry must not run: it is done, or a newer attempt replaced it. */
async function unwanted(
  deps: JobDeps,
  job: Job,
  slug: string,
  attempt: number,
  redelivered: boolean,
): Promise<string | undefined> {
  if (await isDone(deps.store, slug)) return "the job is already done";
  if (await isRetired(deps.store, slug, attempt)) return `attempt ${attempt} was replaced by a newer attempt`;
  if (redelivered && (await alreadyReported(deps, job))) return "its result is already on GitHub";
  return undefined;
}

interface DeliveryContext {
  readonly options: WorkerOptions;
  readonly deps: JobDeps;
  readonly logger: Logger;
  readonly held: Map<string, HeldJob>;
  /** Aborted when the grace period is over: running jobs stop and go back to the queue. */
  readonly shutdown: AbortSignal;
}

/**
 * Run one delivery's job: `job` is the entry's job as admitted (signing.ts),
 * `notice` the line that says what admission took away, if anything.
 */
export async function runDelivery(
  context: DeliveryContext,
  delivery: Delivery,
  job: Job,
  notice?: string,
): Promise<Settle> {
  const slug = jobSlug(job, delivery.body);
  const attempt = job.attempt ?? 1;
  const mine = claimsOf(context.held);
  const key = `${slug}#${attempt}`;
  const earlier = mine.get(key);
  if (earlier) {
    context.logger.info({ slug, attempt }, "this worker already runs the entry; the copy joins that run");
    return earlier;
  }
  const claim = runClaimed(context, delivery, job, slug, attempt, notice);
  mine.set(key, claim);
  try {
    return await claim;
  } finally {
    mine.delete(key);
  }
}

async function runClaimed(
  context: DeliveryContext,
  delivery: Delivery,
  job: Job,
  slug: string,
  attempt: number,
  notice: string | undefined,
): Promise<Settle> {
  const { options, deps, logger } = context;
  const log = logger.child({ slug, attempt, context: job.context });
  const skip = await unwanted(deps, job, slug, attempt, delivery.redelivered);
  if (skip) {
    log.info({ reason: skip }, "not running the entry");
    return "ack";
  }
  const ref: JobRef = {
    slug,
    attempt,
    run: randomUUID(),
    repo: job.repo,
    sha: job.sha,
    pull: job.pull ?? null,
    context: job.context,
    queue: delivery.queue,
  };
  const events = options.events;
  const finished = (state: "done" | "superseded" | "cancelled", final: FinalStatus, logUrl: string | null) =>
    void events?.publish({
      type: "finished",
      at: now(),
      worker: deps.worker,
      job: ref,
      state,
      result: final.state,
      description: final.description,
      logUrl,
    });
  void events?.publish({
    type: "leased",
    at: now(),
    worker: deps.worker,
    job: ref,
    priority: delivery.priority,
    entry: JSON.parse(delivery.body.toString("utf8")) as Record<string, unknown>,
  });

  if (await cancelRequested(deps.store, slug)) {
    const final: FinalStatus = { state: "error", description: CANCELLED };
    await deps.forge.postStatus(job.repo, job.sha, { context: job.context, ...final });
    await markDone(deps.store, slug, { attempt, ...final });
    finished("cancelled", final, null);
    log.info("cancelled from the dashboard; dropped the job without running it");
    return "ack";
  }
  const moved = await movedHead(deps.forge, job);
  if (moved) {
    // A queued job for a stale revision: dropped without running, and done (never lost).
    const final: FinalStatus = { state: "error", description: supersededBy(moved) };
    await deps.forge.postStatus(job.repo, job.sha, { context: job.context, ...final });
    await markDone(deps.store, slug, { attempt, ...final });
    finished("superseded", final, null);
    log.info({ head: moved }, "PR moved on; dropped the job without running it");
    return "ack";
  }

  const controller = new AbortController();
  const onShutdown = () => controller.abort(new StopRequest("shutdown"));
  if (context.shutdown.aborted) onShutdown();
  else context.shutdown.addEventListener("abort", onShutdown, { once: true });
  const unwatch = watchHead(deps.forge, job, options.supersededCheckMs ?? 30_000, (sha) => {
    log.info({ head: sha }, "PR moved on; stopping the job");
    controller.abort(new StopRequest("superseded", sha));
  });
  context.held.set(ref.run, { job, ref, controller });
  /** cancelled: requeued after a shutdown; stopped: cancelled on request, for good. */
  let ended: {
    state: "done" | "superseded" | "cancelled" | "stopped" | "none";
    status: FinalStatus | null;
  } = {
    state: "none",
    status: null,
  };
  const conclude = async (ending: JobEnding): Promise<Verdict> => {
    const stop = stopReason(controller.signal);
    const { final } = ending;
    if (stop?.kind === "shutdown" && final.description === CANCELLED) {
      ended = { state: "cancelled", status: final };
      return { status: final, note: "The worker shut down; the job goes back to the queue." };
    }
    if (stop?.kind === "cancelled" && final.description === CANCELLED) {
      ended = { state: "stopped", status: final };
      return { status: final, note: "Cancelled on request." };
    }
    if (await isRetired(deps.store, slug, attempt).catch(() => false)) {
      return {
        status: null,
        note: `Attempt ${attempt} was declared lost meanwhile; this result is not reported.`,
      };
    }
    if (stop?.kind === "superseded" && final.state === "error") {
      ended = { state: "superseded", status: final };
      return { status: final };
    }
    const maxAttempts = options.maxAttempts ?? 3;
    if (ending.infraFailure && attempt < maxAttempts && !context.shutdown.aborted) {
      const entry = JSON.parse(delivery.body.toString("utf8")) as Record<string, unknown>;
      if (events) {
        await queueNextAttempt({
          queue: options.queue,
          store: deps.store,
          forge: deps.forge,
          events,
          logger: log,
          entry,
          job: ref,
          priority: delivery.priority,
          maxAttempts,
          reason: ending.infraFailure,
        });
        return { status: null, note: `Infrastructure failure: attempt ${attempt + 1} is queued.` };
      }
    }
    const status: FinalStatus = ending.infraFailure
      ? { state: "error", description: exhausted(ending.infraFailure, attempt, deps.worker) }
      : final;
    ended = { state: "done", status };
    return { status };
  };

  let logUrl: string | null = null;
  try {
    await runJob(job, deps, controller.signal, {
      slug: logSlug(slug, attempt),
      onStarted: (url) => {
        logUrl = url;
        void events?.publish({ type: "started", at: now(), worker: deps.worker, job: ref, logUrl: url });
      },
      conclude,
      ...(notice ? { notice } : {}),
    });
  } finally {
    unwatch();
    context.shutdown.removeEventListener("abort", onShutdown);
    context.held.delete(ref.run);
  }
  const { state, status } = ended;
  if (state === "none" || status === null) return "ack";
  if (state === "cancelled") {
    finished("cancelled", status, logUrl);
    return "requeue";
  }
  await markDone(deps.store, slug, { attempt, ...status }).catch((error: unknown) =>
    log.warn({ err: errorMessage(error) }, "could not mark the job done"),
  );
  finished(state === "stopped" ? "cancelled" : state, status, logUrl);
  return "ack";
}
