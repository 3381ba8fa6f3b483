/** One leased entry handed to a handler, settled at most once. */
import type { Delivery } from "../types.js";
import type { ClaimedEntry } from "./claim.js";
import type { LeaseRef } from "./settle.js";

/** What a delivery needs from its backend; each throws when the lease is no longer held. */
export interface LeaseOperations {
  readonly owner: string;
  readonly closed: boolean;
  claim(queue: string, limit: number): ClaimedEntry[];
  remove(lease: LeaseRef, queue: string): void;
  requeue(lease: LeaseRef, queue: string): void;
}

export class SqliteDelivery implements Delivery {
  readonly id: string;
  readonly body: Buffer;
  readonly priority: number;
  readonly redelivered: boolean;
  private readonly lease: LeaseRef;
  private settledFlag = false;

  constructor(
    readonly queue: string,
    entry: ClaimedEntry,
    private readonly leases: LeaseOperations,
    private readonly onSettled: () => void,
  ) {
    this.id = `${entry.id}.${entry.deliveries}`;
    this.body = entry.body;
    this.priority = entry.priority;
    this.redelivered = entry.deliveries > 1;
    this.lease = { id: entry.id, owner: leases.owner, deliveries: entry.deliveries };
  }

  get settled(): boolean {
    return this.settledFlag;
  }

  async ack(): Promise<void> {
    this.settle(() => this.leases.remove(this.lease, this.queue));
  }

  async nack(options?: { readonly requeue?: boolean }): Promise<void> {
    const requeue = options?.requeue ?? true;
    this.settle(() =>
      requeue ? this.leases.requeue(this.lease, this.queue) : this.leases.remove(this.lease, this.queue),
    );
  }

  /** Count it as settled without touching the database (its lease was released wholesale). */
  abandon(): void {
    if (this.settledFlag) return;
    this.settledFlag = true;
    this.onSettled();
  }

  private settle(operation: () => void): void {
    if (this.settledFlag) throw new Error(`delivery ${this.id} of queue ${this.queue} is already settled`);
    this.settledFlag = true;
    try {
      operation();
    } finally {
      // Even when the lease turned out lost: this consumer holds it no more.
      this.onSettled();
    }
  }
}
