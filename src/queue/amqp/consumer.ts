/**
 * A consumer: its own channel with basic.qos(prefetch) and basic.consume
 * with manual acks. When its channel or the connection is lost, the broker
 * requeues what it held; the consumer subscribes again on the next
 * connection (or, if only its channel died, after a backoff delay).
 */
import type { Channel, ConsumeMessage } from "amqplib";
import { errorMessage } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import { handleDelivery } from "../handle.js";
import type { Consumer, DeliveryHandler, QueueKind } from "../types.js";
import { declareQueue } from "./arguments.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import { AmqpDelivery, type DeliveryChannel } from "./delivery.js";
import type { AmqpLink, Session } from "./link.js";

/** One subscription on one channel. */
class Attachment implements DeliveryChannel {
  open = true;
  consumerTag: string | undefined;
  readonly held = new Set<AmqpDelivery>();

  constructor(
    readonly channel: Channel,
    readonly session: Session,
    private readonly link: AmqpLink,
  ) {}

  get backendClosed(): boolean {
    return this.link.closed;
  }
}

export class AmqpConsumer implements Consumer {
  private attachment: Attachment | undefined;
  private active = true;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** A subscription is being made: reconnects and retries must not make a second one. */
  private attaching = false;
  private readonly stopListening: () => void;

  constructor(
    private readonly queue: string,
    private readonly kind: QueueKind,
    private readonly handler: DeliveryHandler,
    private readonly prefetch: number,
    private readonly link: AmqpLink,
    private readonly backoff: BackoffOptions,
    private readonly logger: Logger,
    /** Called once cancelled and holding no deliveries any more. */
    private readonly onFinished: (consumer: AmqpConsumer) => void,
  ) {
    this.stopListening = link.onReconnect((session) => void this.attachQuietly(session));
  }

  /** Deliveries this consumer holds unsettled right now. */
  get unsettled(): number {
    return this.attachment?.open ? this.attachment.held.size : 0;
  }

  get queueName(): string {
    return this.queue;
  }

  /** Subscribe on the given session; rejects if that fails (the caller decides about retrying). */
  async attach(session: Session): Promise<void> {
    this.attaching = true;
    try {
      await this.subscribe(session);
    } finally {
      this.attaching = false;
    }
  }

  private async subscribe(session: Session): Promise<void> {
    const channel = await session.connection.createChannel();
    const attachment = new Attachment(channel, session, this.link);
    channel.on("error", (error: Error) =>
      this.logger.warn({ queue: this.queue, error: errorMessage(error) }, "consumer channel failed"),
    );
    channel.once("close", () => this.detached(attachment));
    try {
      // Declared again here too: a queue deleted while hangar runs comes back as hangar declares it.
      await declareQueue(channel, this.queue, this.kind);
      await channel.prefetch(this.prefetch);
      const { consumerTag } = await channel.consume(
        this.queue,
        (message) => (message ? this.deliver(attachment, message) : this.cancelledByBroker(attachment)),
        { noAck: false },
      );
      attachment.consumerTag = consumerTag;
    } catch (error) {
      if (attachment.open) await channel.close().catch(() => {});
      throw error;
    }
    if (!this.active) {
      await this.release(attachment);
      return;
    }
    if (!attachment.open) throw new Error(`the channel closed while subscribing to ${this.queue}`);
    this.attachment = attachment;
    this.failures = 0;
    clearTimeout(this.retryTimer);
  }

  async cancel(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    clearTimeout(this.retryTimer);
    this.stopListening();
    const attachment = this.attachment;
    if (!attachment?.open) {
      this.onFinished(this);
      return;
    }
    if (attachment.consumerTag !== undefined) {
      await attachment.channel.cancel(attachment.consumerTag).catch(() => {});
    }
    // Deliveries in flight keep the channel until they are settled.
    if (attachment.held.size === 0) await this.release(attachment);
  }

  private async attachQuietly(session: Session): Promise<void> {
    if (!this.active || !session.alive || this.attaching || this.attachment?.open) return;
    try {
      await this.attach(session);
    } catch (error) {
      this.logger.warn(
        { queue: this.queue, error: errorMessage(error) },
        "subscribing to the queue failed; trying again",
      );
      this.retryLater();
    }
  }

  private retryLater(): void {
    if (!this.active || this.link.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => {
        // With the connection down, the next reconnect subscribes this consumer again.
        void this.link.current(0, "subscribing").then(
          (session) => this.attachQuietly(session),
          () => {},
        );
      },
      backoffDelay(this.failures++, this.backoff),
    );
  }

  private detached(attachment: Attachment): void {
    const wasOpen = attachment.open;
    attachment.open = false;
    if (wasOpen && !this.active) this.onFinished(this);
    if (this.attachment !== attachment) return;
    this.attachment = undefined;
    if (!this.active || this.link.closed) return;
    if (attachment.held.size > 0) {
      this.logger.warn(
        { queue: this.queue, requeued: attachment.held.size },
        "consumer channel closed; the broker requeued its unsettled deliveries",
      );
    }
    // Only the channel died (the connection lives on): subscribe again on it. Otherwise the reconnect does.
    if (attachment.session.alive) this.retryLater();
  }

  private cancelledByBroker(attachment: Attachment): void {
    this.logger.warn({ queue: this.queue }, "the broker cancelled the subscription (queue deleted?)");
    void attachment.channel.close().catch(() => {});
  }

  private async release(attachment: Attachment): Promise<void> {
    if (!attachment.open) return;
    attachment.open = false;
    if (!this.active) this.onFinished(this);
    await attachment.channel.close().catch(() => {});
  }

  private deliver(attachment: Attachment, message: ConsumeMessage): void {
    const delivery: AmqpDelivery = new AmqpDelivery(this.queue, message, attachment, () => {
      attachment.held.delete(delivery);
      if (!this.active && attachment.held.size === 0) void this.release(attachment);
    });
    attachment.held.add(delivery);
    void this.run(delivery);
  }

  private run(delivery: AmqpDelivery): Promise<void> {
    // The broker already took the entry back with the channel when it is no longer settleable.
    return handleDelivery(this.handler, delivery, this.logger, () => delivery.settleable);
  }
}
