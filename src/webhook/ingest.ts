/**
 * Taking a verified delivery in: queue it, or spool it to disk when the queue
 * does not answer in time, and never queue one X-GitHub-Delivery twice.
 * While anything waits in the spool, new deliveries go behind it, so the
 * queue sees them in arrival order once the drainer has caught up.
 */
import { join } from "node:path";
import type { QueueBackend } from "../queue/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { Wakeable } from "../util/wakeable.js";
import { AcceptedDeliveries } from "./accepted.js";
import { DeliverySpool } from "./spool.js";

export type IngestOutcome =
  | { readonly kind: "queued" }
  | { readonly kind: "spooled"; readonly reason: string }
  | { readonly kind: "duplicate" }
  | { readonly kind: "unavailable"; readonly reason: string };

export interface IngestOptions {
  readonly queue: QueueBackend;
  readonly queueName: string;
  readonly logger: Logger;
  readonly publishTimeoutMs: number;
  readonly spool?: DeliverySpool;
  readonly accepted?: AcceptedDeliveries;
  /** Backoff of the drainer between failed publishes. */
  readonly drainBackoff?: { readonly minMs: number; readonly maxMs: number };
}

export interface OpenIngestOptions {
  readonly queue: QueueBackend;
  readonly queueName: string;
  readonly logger: Logger;
  readonly publishTimeoutMs: number;
  readonly spoolDir: string;
  readonly retentionMs: number;
  readonly maxEntries: number;
}

/** A publish that did not settle before the timeout; it may still succeed later. */
class PublishTimeout extends Error {
  override readonly name = "PublishTimeout";
}

export class Ingest {
  private readonly spool: DeliverySpool | undefined;
  private readonly accepted: AcceptedDeliveries | undefined;
  /** Deliveries being taken in right now, by id: a concurrent copy waits for the first's outcome. */
  private readonly inProgress = new Map<string, Promise<boolean>>();
  /** Spooled deliveries whose first publish timed out but may still land: name -> did it land. */
  private readonly latePublishes = new Map<string, Promise<boolean>>();
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly backoffSleep = new Wakeable();

  constructor(private readonly options: IngestOptions) {
    this.spool = options.spool;
    this.accepted = options.accepted;
    if (this.spool && this.spool.size > 0) {
      options.logger.warn({ waiting: this.spool.size }, "webhook spool holds deliveries; draining them");
      this.kick();
    }
  }

  /** How many deliveries wait in the spool. */
  get spooled(): number {
    return this.spool?.size ?? 0;
  }

  async take(delivery: string | undefined, envelope: Buffer): Promise<IngestOutcome> {
    if (delivery === undefined || this.accepted === undefined) return this.store(envelope);
    for (;;) {
      if (this.accepted.has(delivery)) return { kind: "duplicate" };
      const earlier = this.inProgress.get(delivery);
      if (earlier === undefined) break;
      if (await earlier) return { kind: "duplicate" };
    }
    let settle: (accepted: boolean) => void = () => undefined;
    this.inProgress.set(delivery, new Promise((resolve) => (settle = resolve)));
    try {
      const outcome = await this.store(envelope, delivery);
      const accepted = outcome.kind !== "unavailable";
      if (accepted) await this.accepted.add(delivery);
      settle(accepted);
      return outcome;
    } catch (error) {
      settle(false);
      throw error;
    } finally {
      this.inProgress.delete(delivery);
    }
  }

  private async store(envelope: Buffer, delivery?: string): Promise<IngestOutcome> {
    const { queue, queueName } = this.options;
    if (this.spool === undefined) {
      try {
        await queue.publish(queueName, envelope);
        return { kind: "queued" };
      } catch (error) {
        return {
          kind: "unavailable",
          reason: `publish to queue ${queueName} failed: ${errorMessage(error)}`,
        };
      }
    }
    if (this.spool.size > 0) return this.toSpool(envelope, "deliveries are waiting in the spool");

    const publish = queue.publish(queueName, envelope);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PublishTimeout()), this.options.publishTimeoutMs);
    });
    try {
      await Promise.race([publish, timeout]);
      return { kind: "queued" };
    } catch (error) {
      if (!(error instanceof PublishTimeout)) {
        return this.toSpool(envelope, `publish to queue ${queueName} failed: ${errorMessage(error)}`);
      }
      const landed = publish.then(
        () => true,
        () => false,
      );
      const reason = `publish to queue ${queueName} took over ${this.options.publishTimeoutMs} ms`;
      const outcome = await this.toSpool(envelope, reason, landed);
      if (outcome.kind === "unavailable" && delivery !== undefined && this.accepted) {
        // GitHub is told 503 but the entry may still arrive: remember it, so a redelivery is not queued twice.
        const accepted = this.accepted;
        const { logger } = this.options;
        landed
          .then((ok) => (ok ? accepted.add(delivery) : undefined))
          .catch((error: unknown) =>
            logger.warn({ delivery, err: errorMessage(error) }, "recording an accepted delivery id failed"),
          );
      }
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  }

  private async toSpool(envelope: Buffer, reason: string, landed?: Promise<boolean>): Promise<IngestOutcome> {
    const spool = this.spool as DeliverySpool;
    try {
      const name = await spool.write(envelope);
      if (landed) this.latePublishes.set(name, landed);
      this.kick();
      return { kind: "spooled", reason };
    } catch (error) {
      return { kind: "unavailable", reason: `${reason}; cannot spool it: ${errorMessage(error)}` };
    }
  }

  /** Starts the drainer unless it runs already. */
  private kick(): void {
    if (this.draining !== undefined || this.closed) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (!this.closed && (this.spool?.size ?? 0) > 0) this.kick();
    });
  }

  /** Publishes spooled deliveries oldest first; each file goes only after its publish resolved. */
  private async drain(): Promise<void> {
    const spool = this.spool as DeliverySpool;
    const { queue, queueName, logger } = this.options;
    const backoff = this.options.drainBackoff ?? { minMs: 100, maxMs: 10_000 };
    let delay = backoff.minMs;
    let drained = 0;
    for (let name = spool.head; name !== undefined && !this.closed; name = spool.head) {
      try {
        const late = this.latePublishes.get(name);
        if (late === undefined || !(await late)) {
          await queue.publish(queueName, await spool.read(name));
        }
        this.latePublishes.delete(name);
        await spool.remove(name);
        drained += 1;
        delay = backoff.minMs;
      } catch (error) {
        logger.warn(
          { waiting: spool.size, retryInMs: delay, err: errorMessage(error) },
          "webhook spool: queue still unavailable",
        );
        await this.backoffSleep.sleep(delay);
        delay = Math.min(delay * 2, backoff.maxMs);
      }
    }
    if (drained > 0) logger.info({ drained, waiting: spool.size }, "webhook spool drained");
  }

  /** Stops draining (what waits stays on disk for the next start) and closes the record. */
  async close(): Promise<void> {
    this.closed = true;
    this.backoffSleep.wake();
    await this.draining;
    this.accepted?.close();
  }
}

export async function openIngest(options: OpenIngestOptions): Promise<Ingest> {
  const spool = await DeliverySpool.open(options.spoolDir);
  const accepted = new AcceptedDeliveries(join(options.spoolDir, "accepted.sqlite"), {
    retentionMs: options.retentionMs,
    maxEntries: options.maxEntries,
  });
  return new Ingest({
    queue: options.queue,
    queueName: options.queueName,
    logger: options.logger,
    publishTimeoutMs: options.publishTimeoutMs,
    spool,
    accepted,
  });
}
