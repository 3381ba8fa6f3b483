/**
 * The queue interface every backend (sqlite, amqp) implements.
 *
 * Semantics shared by all backends, pinned down by test/queue/conformance.ts:
 * - publish() resolves only once the entry is durable (committed to disk, or
 *   confirmed by the broker).
 * - Higher priority first (0..9), FIFO within one priority.
 * - At-least-once: a delivery is removed only by ack(); nack() puts it back
 *   (or drops it with requeue: false); a consumer that dies leaves its
 *   unacked deliveries to be delivered again, with `redelivered` set.
 */

export const MIN_PRIORITY = 0;
export const MAX_PRIORITY = 9;
export const DEFAULT_PRIORITY = 5;

export type QueueKind = "webhook" | "task" | "statistics";

/** Which queues exist and of what kind: decides how a backend declares them. */
export interface QueueLayout {
  readonly webhook: string;
  readonly tasks: readonly string[];
  readonly statistics: string;
}

export interface PublishOptions {
  /** 0..9, higher first; DEFAULT_PRIORITY when absent. */
  readonly priority?: number;
}

export interface Delivery {
  /** Backend-specific identity of this delivery, for logs. */
  readonly id: string;
  readonly queue: string;
  readonly body: Buffer;
  readonly priority: number;
  /** True when an earlier delivery of this entry was not acked. */
  readonly redelivered: boolean;
  /** Remove the entry for good. */
  ack(): Promise<void>;
  /** Give the entry back (requeue, the default) or drop it. */
  nack(options?: { readonly requeue?: boolean }): Promise<void>;
}

/**
 * Called once per delivery. The handler settles the delivery with ack/nack;
 * if it returns or throws without settling, the backend requeues it.
 */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

export interface ConsumeOptions {
  /** Most unsettled deliveries this consumer holds at once (default 1). */
  readonly prefetch?: number;
}

export interface Consumer {
  /** Stop receiving new deliveries; those in flight stay with their handlers. */
  cancel(): Promise<void>;
}

export interface PeekedEntry {
  readonly priority: number;
  readonly body: Buffer;
  readonly redelivered: boolean;
}

export interface QueueInfo {
  readonly name: string;
  /** Entries waiting (not leased to a consumer). */
  readonly ready: number;
  /** Entries delivered and not yet settled. */
  readonly unacked: number;
  /** Up to `limit` waiting entries, in delivery order, without consuming them. */
  readonly entries: readonly PeekedEntry[];
}

export interface QueueBackend {
  readonly driver: "sqlite" | "amqp";
  publish(queue: string, body: Buffer | string, options?: PublishOptions): Promise<void>;
  consume(queue: string, handler: DeliveryHandler, options?: ConsumeOptions): Promise<Consumer>;
  inspect(queue: string, limit?: number): Promise<QueueInfo>;
  /** Remove all waiting entries; returns how many. */
  purge(queue: string): Promise<number>;
  close(): Promise<void>;
}
