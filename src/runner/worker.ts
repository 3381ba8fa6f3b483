/** Phase three's loop: consume the worker's task queues, run each job, ack only after its result is posted. */
import { INTERNAL_CAPABILITY } from "../config/index.js";
import { BadEntryError, type Job, parseTaskEntry } from "../queue/messages.js";
import type { Consumer, Delivery, QueueBackend } from "../queue/types.js";
import { errorMessage } from "../util/errors.js";
import { type JobDeps, runJob } from "./job.js";
import { reapStaleJobs } from "./reap.js";

export interface WorkerOptions extends JobDeps {
  readonly queue: QueueBackend;
  readonly queues: readonly string[];
  readonly concurrency: number;
}

export interface RunningWorker {
  /** Jobs running now, for status displays. */
  readonly running: ReadonlySet<Job>;
  /** Stop taking work; cancel running jobs (their entries go back to the queue). */
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

/** A redelivered job whose result is already on GitHub ran to the end before its worker died: don't run it twice. */
async function alreadyReported(options: WorkerOptions, job: Job): Promise<boolean> {
  try {
    const status = (await options.forge.getStatuses(job.repo, job.sha)).get(job.context);
    return status?.state === "success" || status?.state === "failure";
  } catch {
    return false;
  }
}

/** Capabilities a job needs that this worker lacks (`internal` only picks a queue). */
export function missingCapabilities(job: Job, capabilities: readonly string[]): string[] {
  return (job.capabilities ?? []).filter((c) => c !== INTERNAL_CAPABILITY && !capabilities.includes(c));
}

/** A job on the wrong queue goes back for a capable worker, after a pause so it does not spin here. */
const MISROUTED_DELAY_MS = 5000;

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const slots = new Slots(options.concurrency);
  const running = new Set<Job>();
  const shutdown = new AbortController();
  /** Undefined: the caller does not track capabilities, and no job is refused for lacking one. */
  let capabilities = options.capabilities ? new Set(options.capabilities) : undefined;
  const logger = options.logger.child({ worker: options.worker });
  await reapStaleJobs(options.workDir, logger);

  const handle = async (delivery: Delivery): Promise<void> => {
    let job: Job;
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
      job = entry.job;
    } catch (error) {
      if (!(error instanceof BadEntryError)) throw error;
      logger.error(
        { err: error.message, body: delivery.body.toString("utf8").slice(0, 4096) },
        "dropping bad task entry",
      );
      await delivery.ack();
      return;
    }
    await slots.take();
    try {
      if (shutdown.signal.aborted) return await delivery.nack({ requeue: true });
      if (delivery.redelivered && (await alreadyReported(options, job))) {
        logger.info(
          { context: job.context, sha: job.sha },
          "redelivered job already has its result; not running it again",
        );
        return await delivery.ack();
      }
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
      await runJob(
        job,
        { ...options, ...(capabilities ? { capabilities: [...capabilities] } : {}) },
        shutdown.signal,
      );
      if (shutdown.signal.aborted) await delivery.nack({ requeue: true });
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
      if (consumed.has(queue) || shutdown.signal.aborted) continue;
      consumed.add(queue);
      consumers.push(await options.queue.consume(queue, handle, { prefetch: options.concurrency }));
    }
  };
  await consume(options.queues);
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
      }
    },
    async stop() {
      await Promise.all(consumers.map((consumer) => consumer.cancel()));
      shutdown.abort();
      const deadline = Date.now() + 15_000;
      while (running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
  };
}
