/**
 * Phase three's loop: consume the worker's task queues, run each job, ack only
 * after its result is posted. Reports itself and its jobs to the recorder
 * (events queue) every heartbeat; on stop, takes no more work, gives running
 * jobs a grace period, then cancels them and returns their entries.
 */
import { INTERNAL_CAPABILITY } from "../config/index.js";
import { cancelRequested, clearDrain, drainRequested } from "../jobs/control.js";
import { type JobEventPublisher, now } from "../jobs/events.js";
import { BadEntryError, type Job, parseTaskEntry } from "../queue/messages.js";
import { type Admission, admitJob, type EntryPolicy } from "../queue/signing.js";
import type { Consumer, Delivery, QueueBackend } from "../queue/types.js";
import { errorMessage } from "../util/errors.js";
import { type HeldJob, runDelivery } from "./delivery.js";
import type { JobDeps } from "./job.js";
import { reapStaleJobs } from "./reap.js";
import { StopRequest } from "./stop.js";

export interface WorkerOptions extends JobDeps {
  readonly queue: QueueBackend;
  readonly queues: readonly string[];
  readonly concurrency: number;
  /** Where job and worker events go (the recorder reads them); none are sent without it. */
  readonly events?: JobEventPublisher;
  /** Default 5000. */
  readonly heartbeatMs?: number;
  /** 1 + retries of infrastructure failures; default 3. */
  readonly maxAttempts?: number;
  /** How long stop() lets running jobs finish before cancelling them; default 25000. */
  readonly shutdownGraceMs?: number;
  /** How often a running PR job checks the PR's head; default 30000. */
  readonly supersededCheckMs?: number;
  /** Which entries are believed (queue/signing.ts); without it, every entry runs untrusted. */
  readonly entries?: EntryPolicy;
}

const UNTRUSTING: EntryPolicy = { unsigned: { trusted: false, secrets: [] } };

export interface RunningWorker {
  /** Jobs running now, for status displays. */
  readonly running: ReadonlySet<Job>;
  /**
   * Stop taking work; let running jobs finish within the grace period, then
   * cancel them ("Cancelled" on GitHub) and return their entries to the queue.
   */
  stop(): Promise<void>;
  /** A probe proved more capabilities: advertise them to jobs and consume these further queues. */
  extend(capabilities: readonly string[], queues: readonly string[]): Promise<void>;
}

/** A counting semaphore shared by all of a worker's queues. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(count: number) {
    this.free = count;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** Capabilities a job needs that this worker lacks (`internal` only picks a queue). */
export function missingCapabilities(job: Job, capabilities: readonly string[]): string[] {
  return (job.capabilities ?? []).filter((c) => c !== INTERNAL_CAPABILITY && !capabilities.includes(c));
}

/** A job on the wrong queue goes back for a capable worker, after a pause so it does not spin here. */
const MISROUTED_DELAY_MS = 5000;

const until = async (done: () => boolean, deadline: number) => {
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
};

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const slots = new Slots(options.concurrency);
  const running = new Set<Job>();
  const held = new Map<string, HeldJob>();
  const shutdown = new AbortController();
  let draining = false;
  /** Undefined: the caller does not track capabilities, and no job is refused for lacking one. */
  let capabilities = options.capabilities ? new Set(options.capabilities) : undefined;
  const logger = options.logger.child({ worker: options.worker });
  const startedAt = now();
  await reapStaleJobs(options.workDir, logger);
  await clearDrain(options.store, options.worker).catch(() => undefined);

  const policy = options.entries ?? UNTRUSTING;
  if (policy.signingKey === undefined) {
    logger.warn(
      { unsignedEntries: policy.unsigned },
      "no queue signing key (queue.signingKey): no entry can be verified, every job runs as an unsigned entry",
    );
  }

  const handle = async (delivery: Delivery): Promise<void> => {
    let admitted: Admission;
    try {
      const entry = parseTaskEntry(delivery.body, delivery.queue);
      if (entry.kind === "command") {
        logger.error(
          { queue: delivery.queue, command: entry.command },
          "dropping maintenance command: not supported by hangar workers",
        );
        await delivery.ack();
        return;
      }
      admitted = admitJob(entry.job, delivery.body, policy);
    } catch (error) {
      if (!(error instanceof BadEntryError)) throw error;
      logger.error(
        { err: error.message, body: delivery.body.toString("utf8").slice(0, 4096) },
        "dropping bad task entry",
      );
      await delivery.ack();
      return;
    }
    const { job } = admitted;
    if (admitted.trust === "bad-signature") {
      logger.warn(
        { queue: delivery.queue, context: job.context, repo: job.repo, sha: job.sha },
        "task entry with a bad signature: running it as unsigned",
      );
    }
    await slots.take();
    try {
      if (draining) return await delivery.nack({ requeue: true });
      const missing = capabilities ? missingCapabilities(job, [...capabilities]) : [];
      if (missing.length > 0) {
        logger.warn(
          { context: job.context, queue: delivery.queue, missing },
          "job needs capabilities this worker lacks; returning it to the queue",
        );
        await new Promise((resolve) => setTimeout(resolve, MISROUTED_DELAY_MS));
        return await delivery.nack({ requeue: true });
      }
      running.add(job);
      const deps = { ...options, ...(capabilities ? { capabilities: [...capabilities] } : {}) };
      const settle = await runDelivery(
        { options, deps, logger, held, shutdown: shutdown.signal },
        delivery,
        job,
        admitted.notice,
      );
      if (settle === "requeue") await delivery.nack({ requeue: true });
      else await delivery.ack();
    } catch (error) {
      logger.error(
        { err: errorMessage(error), context: job.context },
        "job could not report its result; it goes back to the queue",
      );
      await delivery.nack({ requeue: true });
    } finally {
      running.delete(job);
      slots.give();
    }
  };

  const consumers: Consumer[] = [];
  const consumed = new Set<string>();
  const consume = async (queues: readonly string[]) => {
    for (const queue of queues) {
      if (consumed.has(queue) || draining) continue;
      consumed.add(queue);
      consumers.push(await options.queue.consume(queue, handle, { prefetch: options.concurrency }));
    }
  };

  const heartbeat = () =>
    options.events?.publish({
      type: "worker",
      at: now(),
      worker: {
        name: options.worker,
        capabilities: [...(capabilities ?? [])],
        queues: [...consumed],
        running: [...held.values()].map(({ ref }) => ({
          slug: ref.slug,
          attempt: ref.attempt,
          run: ref.run,
        })),
        startedAt,
        draining,
      },
    });
  let consuming = true;
  const stopConsuming = async () => {
    if (!consuming) return;
    consuming = false;
    await Promise.all(consumers.map((consumer) => consumer.cancel()));
  };
  /** Requests from the dashboard: drain this worker, cancel one of its jobs. */
  const obey = async () => {
    if (!draining && (await drainRequested(options.store, options.worker))) {
      draining = true;
      logger.info("drain requested: taking no more work");
      await stopConsuming();
    }
    for (const { ref, controller } of held.values()) {
      if (!controller.signal.aborted && (await cancelRequested(options.store, ref.slug))) {
        logger.info({ slug: ref.slug }, "cancel requested: stopping the job");
        controller.abort(new StopRequest("cancelled"));
      }
    }
  };
  await consume(options.queues);
  void heartbeat();
  const beat = setInterval(() => {
    void heartbeat();
    void obey().catch((error: unknown) =>
      logger.warn({ err: errorMessage(error) }, "could not read requests from the store"),
    );
  }, options.heartbeatMs ?? 5000);
  logger.info(
    { queues: [...consumed], concurrency: options.concurrency, capabilities: [...(capabilities ?? [])] },
    "worker ready",
  );

  return {
    running,
    async extend(more, queues) {
      capabilities ??= new Set();
      for (const capability of more) capabilities.add(capability);
      const before = consumed.size;
      await consume(queues);
      if (consumed.size > before) {
        logger.info({ queues: [...consumed], capabilities: [...capabilities] }, "worker queues extended");
        void heartbeat();
      }
    },
    async stop() {
      draining = true;
      void heartbeat();
      await stopConsuming();
      const graceMs = options.shutdownGraceMs ?? 25_000;
      if (running.size > 0) logger.info({ jobs: running.size, graceMs }, "letting running jobs finish");
      await until(() => running.size === 0, Date.now() + graceMs);
      if (running.size > 0) logger.warn({ jobs: running.size }, "grace period over: cancelling running jobs");
      shutdown.abort();
      await until(() => running.size === 0, Date.now() + 30_000);
      clearInterval(beat);
      void heartbeat();
      await options.events?.flush();
    },
  };
}
