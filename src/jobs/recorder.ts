/**
 * The recorder: the one consumer of the events queue. It keeps the job
 * database and runs the lost-job monitor: a leased or running job whose
 * worker went silent for `lostAfterMs` is marked lost and queued again as the
 * next attempt (or given its final error once no attempt is left).
 *
 * Silence is judged against the recorder's own ticks, published into the
 * same queue: a job counts as silent only when a tick sent `lostAfterMs`
 * after its last heartbeat has already come back. While the queue is down or
 * backed up, nothing is declared lost.
 *
 * Anyone who can write to the events queue can send a "leased" event, so the
 * entry and the queue it names are not believed: a lost job is requeued only
 * into one of the configuration's task queues, with the entry as it was
 * (its signature, if any, intact: a forged entry stays unsigned and runs
 * untrusted).
 */
import { randomUUID } from "node:crypto";
import type { Forge } from "../forge/types.js";
import { recordJobEvent } from "../metrics/events.js";
import { BadEntryError, jobEventEntrySchema, parseEntry } from "../queue/messages.js";
import type { Consumer, QueueBackend } from "../queue/types.js";
import { exhausted } from "../runner/outcome.js";
import type { Store } from "../store/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { JobDatabase, type SilentJob } from "./database.js";
import { JobEventPublisher, now } from "./events.js";
import { markDone } from "./fence.js";
import { queueNextAttempt } from "./requeue.js";
import type { JobHistory } from "./types.js";

export interface RecorderOptions {
  readonly queue: QueueBackend;
  readonly eventsQueue: string;
  /** Path of the SQLite job database. */
  readonly database: string;
  readonly store: Store;
  readonly forge: Forge;
  readonly logger: Logger;
  /** How often to tick and look for lost jobs. */
  readonly heartbeatMs: number;
  readonly lostAfterMs: number;
  /** 1 + worker.retries. */
  readonly maxAttempts: number;
  /** The task queues of the configuration (taskQueues): the only queues a lost job goes back to. */
  readonly taskQueues: readonly string[];
}

export interface RunningRecorder {
  readonly history: JobHistory;
  stop(): Promise<void>;
}

export async function startRecorder(options: RecorderOptions): Promise<RunningRecorder> {
  const id = randomUUID();
  const logger = options.logger.child({ recorder: id.slice(0, 8) });
  const database = new JobDatabase(options.database);
  const events = new JobEventPublisher(options.queue, options.eventsQueue, logger);
  const startedMs = Date.now();
  let tickBack = 0;
  let checking = false;

  const handle = async (delivery: { body: Buffer; queue: string; ack(): Promise<void> }) => {
    try {
      const { event } = parseEntry(jobEventEntrySchema, delivery.body, delivery.queue);
      if (event.type === "tick") {
        if (event.recorder === id) tickBack = Math.max(tickBack, event.sent);
      } else {
        database.apply(event, Date.now());
        recordJobEvent(event);
      }
    } catch (error) {
      if (!(error instanceof BadEntryError)) throw error;
      logger.warn({ err: error.message }, "dropping a bad event");
    }
    await delivery.ack();
  };

  const taskQueues = new Set(options.taskQueues);
  const lose = async (silent: SilentJob) => {
    const { job } = silent;
    const reason = `worker ${silent.worker ?? "?"} lost`;
    const knownQueue = taskQueues.has(job.queue);
    if (!knownQueue) {
      logger.warn(
        { slug: job.slug, queue: job.queue },
        "a lost job names a queue that is no task queue of the configuration; not requeueing it",
      );
    }
    const retry = knownQueue && job.attempt < options.maxAttempts && silent.entry !== null;
    const description = retry ? reason : exhausted(reason, job.attempt);
    if (!database.markLost(job, description, !retry)) return;
    logger.warn({ slug: job.slug, attempt: job.attempt, worker: silent.worker }, "job lost");
    if (retry && silent.entry) {
      const next = await queueNextAttempt({
        ...options,
        events,
        logger,
        entry: silent.entry,
        job,
        priority: silent.priority,
        reason,
      });
      database.apply({ type: "queued", at: now(), job: next }, Date.now());
      return;
    }
    await options.forge.postStatus(job.repo, job.sha, { context: job.context, state: "error", description });
    await markDone(options.store, job.slug, { attempt: job.attempt, state: "error", description });
  };

  const check = async () => {
    // Before a tick has come back, or with heartbeats from before this recorder ran, nothing is judged.
    const horizon = tickBack - options.lostAfterMs;
    if (checking || horizon <= startedMs) return;
    checking = true;
    try {
      for (const silent of database.silentSince(horizon)) {
        await lose(silent).catch((error: unknown) =>
          logger.error({ err: errorMessage(error), slug: silent.job.slug }, "could not requeue a lost job"),
        );
      }
    } finally {
      checking = false;
    }
  };

  const consumer: Consumer = await options.queue.consume(options.eventsQueue, handle, { prefetch: 64 });
  const timer = setInterval(() => {
    void events.publish({ type: "tick", at: now(), recorder: id, sent: Date.now() });
    void check();
  }, options.heartbeatMs);
  logger.info({ queue: options.eventsQueue, database: options.database }, "job recorder ready");

  return {
    history: database,
    async stop() {
      clearInterval(timer);
      await consumer.cancel();
      await events.flush();
      while (checking) await new Promise((resolve) => setTimeout(resolve, 20));
      database.close();
    },
  };
}
