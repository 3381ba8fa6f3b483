/** One message handed to a handler, settled at most once with basic.ack / basic.nack. */
import type { Channel, ConsumeMessage } from "amqplib";
import type { Delivery } from "../types.js";

/** The channel a delivery came on, as its consumer sees it. */
export interface DeliveryChannel {
  readonly channel: Channel;
  /** False once the channel or its connection is gone: the broker has requeued its deliveries. */
  readonly open: boolean;
  readonly backendClosed: boolean;
}

export class AmqpDelivery implements Delivery {
  readonly id: string;
  readonly body: Buffer;
  readonly priority: number;
  readonly redelivered: boolean;
  private isSettled = false;

  constructor(
    readonly queue: string,
    private readonly message: ConsumeMessage,
    private readonly via: DeliveryChannel,
    private readonly onSettled: () => void,
  ) {
    this.id = `${message.fields.consumerTag}#${message.fields.deliveryTag}`;
    this.body = message.content;
    // Messages published without a priority (not by hangar) are priority 0 to RabbitMQ too.
    this.priority = typeof message.properties.priority === "number" ? message.properties.priority : 0;
    this.redelivered = message.fields.redelivered;
  }

  get settled(): boolean {
    return this.isSettled;
  }

  /** Whether settling can still reach the broker (else it has requeued the entry itself). */
  get settleable(): boolean {
    return this.via.open && !this.via.backendClosed;
  }

  async ack(): Promise<void> {
    this.settle(() => this.via.channel.ack(this.message));
  }

  async nack(options?: { readonly requeue?: boolean }): Promise<void> {
    const requeue = options?.requeue ?? true;
    this.settle(() => this.via.channel.nack(this.message, false, requeue));
  }

  private settle(send: () => void): void {
    if (this.isSettled) throw new Error(`delivery ${this.id} of ${this.queue} was already settled`);
    if (this.via.backendClosed) {
      throw new Error(`queue backend is closed; delivery ${this.id} of ${this.queue} was requeued`);
    }
    if (!this.via.open) {
      throw new Error(
        `the channel of delivery ${this.id} of ${this.queue} was lost; the broker requeued the entry and will deliver it again`,
      );
    }
    send();
    this.isSettled = true;
    this.onSettled();
  }
}
