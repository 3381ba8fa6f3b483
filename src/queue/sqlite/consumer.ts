/**
 * A consumer: leases up to `prefetch` entries at a time and runs the handler
 * on each. It claims when woken (publish, requeue, release) and when the
 * backend's safety-net poll asks it to.
 */

import { errorMessage } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import { handleDelivery } from "../handle.js";
import type { Consumer, DeliveryHandler } from "../types.js";
import type { ClaimedEntry } from "./claim.js";
import { type LeaseOperations, SqliteDelivery } from "./delivery.js";
import type { Wakeup } from "./wake.js";

export class SqliteConsumer implements Consumer {
  private unsettled = 0;
  private active = true;
  private scheduled = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly queue: string,
    private readonly handler: DeliveryHandler,
    private readonly prefetch: number,
    private readonly leases: LeaseOperations,
    wakeup: Wakeup,
    private readonly logger: Logger,
    private readonly onCancel: (consumer: SqliteConsumer) => void,
  ) {
    this.unsubscribe = wakeup.subscribe((woken) => {
      if (woken === undefined || woken === queue) this.schedule();
    });
  }

  /** Claim soon; many wake-ups in one tick cost one claim. */
  schedule(): void {
    if (!this.active || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  async cancel(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.unsubscribe();
    this.onCancel(this);
  }

  private pump(): void {
    const free = this.prefetch - this.unsettled;
    if (!this.active || this.leases.closed || free <= 0) return;
    let entries: ClaimedEntry[];
    try {
      entries = this.leases.claim(this.queue, free);
    } catch (error) {
      // Typically SQLITE_BUSY past the busy timeout; the next poll tries again.
      this.logger.warn({ queue: this.queue, error: errorMessage(error) }, "claiming queue entries failed");
      return;
    }
    for (const entry of entries) this.deliver(entry);
  }

  private deliver(entry: ClaimedEntry): void {
    this.unsettled += 1;
    const delivery = new SqliteDelivery(this.queue, entry, this.leases, () => {
      this.unsettled -= 1;
      this.schedule();
    });
    void this.run(delivery);
  }

  private run(delivery: SqliteDelivery): Promise<void> {
    return handleDelivery(this.handler, delivery, this.logger, () => {
      if (!this.leases.closed) return true;
      delivery.abandon();
      return false;
    });
  }
}
