/**
 * The AMQP queue backend: RabbitMQ over AMQP 0-9-1 (amqplib), with the
 * queue declarations and message bodies of Cockpit's bots. See
 * docs/rabbitmq.md for the configuration and the trade-offs.
 */
import { credentials, type SocketOptions } from "amqplib";
import { type Logger, silentLogger } from "../../util/logger.js";
import { checkInspectLimit, checkPriority, checkQueue, queueKinds } from "../layout.js";
import {
  type ConsumeOptions,
  type Consumer,
  DEFAULT_PRIORITY,
  type DeliveryHandler,
  type PublishOptions,
  type QueueBackend,
  type QueueInfo,
  type QueueKind,
  type QueueLayout,
} from "../types.js";
import { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.js";
import { AmqpConsumer } from "./consumer.js";
import { peekQueue, withChannel } from "./inspect.js";
import { AmqpLink, baseSocketOptions } from "./link.js";
import { publishConfirmed } from "./publish.js";

/** PEM texts. With cert and key the client logs in with its certificate (SASL EXTERNAL). */
export interface AmqpTlsOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface AmqpQueueOptions {
  /** amqp://user:pass@host:port/vhost or amqps://host:port/vhost */
  readonly url: string;
  readonly layout: QueueLayout;
  readonly logger?: Logger;
  readonly tls?: AmqpTlsOptions;
  /** How long publish() and other calls wait for a lost connection to come back (default 8000 ms). */
  readonly outageTimeoutMs?: number;
  /** Reconnect delays (default 100 ms doubling up to 10000 ms, with jitter). */
  readonly backoff?: Partial<BackoffOptions>;
}

// Below GitHub's 10 s delivery timeout, so the webhook answers 503 before GitHub gives up.
const DEFAULT_OUTAGE_TIMEOUT_MS = 8000;
const DEFAULT_INSPECT_LIMIT = 10;

export async function openAmqpQueue(options: AmqpQueueOptions): Promise<AmqpQueueBackend> {
  const backend = new AmqpQueueBackend(options);
  await backend.open();
  return backend;
}

export function amqpSocketOptions(tls: AmqpTlsOptions | undefined): SocketOptions {
  const options: SocketOptions = { ...baseSocketOptions() };
  if (tls?.ca !== undefined) options.ca = tls.ca;
  if (tls?.cert !== undefined) options.cert = tls.cert;
  if (tls?.key !== undefined) options.key = tls.key;
  if (tls?.cert !== undefined && tls.key !== undefined) options.credentials = credentials.external();
  return options;
}

export class AmqpQueueBackend implements QueueBackend {
  readonly driver = "amqp";
  private readonly link: AmqpLink;
  private readonly kinds: ReadonlyMap<string, QueueKind>;
  private readonly logger: Logger;
  private readonly backoff: BackoffOptions;
  private readonly outageTimeoutMs: number;
  private readonly consumers = new Set<AmqpConsumer>();

  constructor(options: AmqpQueueOptions) {
    this.kinds = queueKinds(options.layout);
    this.logger = (options.logger ?? silentLogger()).child({ queueDriver: "amqp" });
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.outageTimeoutMs = options.outageTimeoutMs ?? DEFAULT_OUTAGE_TIMEOUT_MS;
    this.link = new AmqpLink({
      url: options.url,
      socketOptions: amqpSocketOptions(options.tls),
      kinds: this.kinds,
      backoff: this.backoff,
      logger: this.logger,
    });
  }

  /** Connect and declare the queues; fails at once if the broker refuses or a queue differs. */
  async open(): Promise<void> {
    try {
      await this.link.open();
    } catch (error) {
      await this.link.close();
      if (error instanceof Error && error.name === "QueueArgumentsError") throw error;
      throw new Error(`cannot connect to RabbitMQ at ${this.link.where}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  async publish(queue: string, body: Buffer | string, options?: PublishOptions): Promise<void> {
    this.assertOpen();
    checkQueue(this.kinds, queue);
    const priority = checkPriority(options?.priority ?? DEFAULT_PRIORITY);
    const content = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    await publishConfirmed(this.link, queue, content, priority, this.outageTimeoutMs);
  }

  async consume(queue: string, handler: DeliveryHandler, options?: ConsumeOptions): Promise<Consumer> {
    this.assertOpen();
    checkQueue(this.kinds, queue);
    const prefetch = options?.prefetch ?? 1;
    if (!Number.isInteger(prefetch) || prefetch < 1) {
      throw new RangeError(`prefetch must be a positive integer, got ${prefetch}`);
    }
    const kind = this.kinds.get(queue) as QueueKind;
    const consumer = new AmqpConsumer(
      queue,
      kind,
      handler,
      prefetch,
      this.link,
      this.backoff,
      this.logger,
      (c) => this.consumers.delete(c),
    );
    this.consumers.add(consumer);
    try {
      await consumer.attach(await this.link.current(this.outageTimeoutMs, `subscribing to ${queue}`));
    } catch (error) {
      await consumer.cancel();
      throw error;
    }
    return consumer;
  }

  /**
   * `ready` is the broker's count; `unacked` counts only this backend's own
   * unsettled deliveries (AMQP has no way to ask for other clients'). Peeking
   * marks the peeked entries redelivered: see inspect.ts.
   */
  async inspect(queue: string, limit = DEFAULT_INSPECT_LIMIT): Promise<QueueInfo> {
    this.assertOpen();
    checkQueue(this.kinds, queue);
    checkInspectLimit(limit);
    const session = await this.link.current(this.outageTimeoutMs, `inspecting ${queue}`);
    const { ready, entries } = await peekQueue(session, queue, limit);
    let unacked = 0;
    for (const consumer of this.consumers) if (consumer.queueName === queue) unacked += consumer.unsettled;
    return { name: queue, ready, unacked, entries };
  }

  async purge(queue: string): Promise<number> {
    this.assertOpen();
    checkQueue(this.kinds, queue);
    const session = await this.link.current(this.outageTimeoutMs, `purging ${queue}`);
    return withChannel(session, async (channel) => (await channel.purgeQueue(queue)).messageCount);
  }

  /** Closes the connection; the broker requeues every delivery still unsettled. */
  async close(): Promise<void> {
    if (this.link.closed) return;
    for (const consumer of [...this.consumers]) await consumer.cancel();
    await this.link.close();
  }

  private assertOpen(): void {
    if (this.link.closed) throw new Error("queue backend is closed");
  }
}

/** amqplib's errors for a refused login or socket are terse; say what they mean. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === "ECONNREFUSED") return `${message} (is RabbitMQ running and listening there?)`;
  if (/ACCESS_REFUSED|authentication/i.test(message))
    return `${message} (check the user and password or the client certificate)`;
  return message;
}
