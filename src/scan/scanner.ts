/** Phase two: consume queue `webhook`, apply the scan plan (statuses, task entries), then ack. */
import type { HangarConfig } from "../config/index.js";
import type { Forge } from "../forge/types.js";
import { BadEntryError, parseEntry, webhookEnvelopeSchema } from "../queue/messages.js";
import type { Consumer, Delivery, QueueBackend } from "../queue/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { BadEventError, readEnvelope } from "./events.js";
import { NOT_YET_TESTED, planScan, type ScanPlan } from "./plan.js";

export interface ScannerDeps {
  readonly config: HangarConfig;
  readonly queue: QueueBackend;
  readonly forge: Forge;
  readonly logger: Logger;
}

/** How long a failed scan waits before its entry goes back to the queue, so errors don't spin. */
const RETRY_DELAY_MS = 1000;

export async function applyPlan(deps: ScannerDeps, plan: ScanPlan): Promise<void> {
  const subject = plan.subject;
  if (!subject) return;
  for (const action of plan.actions) {
    if (action.kind === "comment") {
      await deps.forge.comment(subject.repo, action.issue, action.body);
      continue;
    }
    if (action.kind === "status" || action.postPending) {
      const description = action.kind === "status" ? action.description : NOT_YET_TESTED;
      await deps.forge.postStatus(subject.repo, subject.sha, {
        context: action.context,
        state: "pending",
        description,
      });
    }
    if (action.kind === "queue") {
      await deps.queue.publish(action.queue, JSON.stringify(action.task), { priority: action.priority });
    }
  }
}

async function scanDelivery(deps: ScannerDeps, delivery: Delivery): Promise<void> {
  const started = performance.now();
  let log = deps.logger.child({ entry: delivery.id });
  try {
    const envelope = parseEntry(webhookEnvelopeSchema, delivery.body, delivery.queue);
    log = log.child({ event: envelope.event, delivery: envelope.delivery });
    // The jobs' slugs carry this time: a delivery scanned again (its first ack was lost with the
    // broker) names the same jobs, and workers drop or join the copies instead of running twice.
    const now = envelope.received === undefined ? undefined : new Date(envelope.received);
    const plan = await planScan({ ...deps, ...(now ? { now } : {}) }, readEnvelope(envelope));
    await applyPlan(deps, plan);
    await delivery.ack();
    log.info(
      {
        ignored: plan.ignored,
        queued: plan.actions.filter((a) => a.kind === "queue").map((a) => a.context),
        statuses: plan.actions.filter((a) => a.kind === "status").map((a) => a.context),
        skipped: plan.skipped,
        ms: Math.round(performance.now() - started),
      },
      plan.ignored ? "scan: nothing to do" : "scan: done",
    );
  } catch (error) {
    if (error instanceof BadEntryError || error instanceof BadEventError) {
      // Retrying cannot fix a malformed entry: log it whole for an operator and drop it.
      log.error(
        { err: error.message, body: delivery.body.toString("utf8").slice(0, 4096) },
        "scan: dropping bad entry",
      );
      await delivery.ack();
      return;
    }
    log.error({ err: errorMessage(error) }, "scan failed; entry goes back to the queue");
    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    await delivery.nack({ requeue: true });
  }
}

export function startScanner(deps: ScannerDeps): Promise<Consumer> {
  return deps.queue.consume(deps.config.queue.names.webhook, (delivery) => scanDelivery(deps, delivery), {
    prefetch: 4,
  });
}
