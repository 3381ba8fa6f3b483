/**
 * The connection to RabbitMQ, kept up: on loss it is re-established with
 * backoff and jitter, the queues are declared again and listeners (the
 * consumers) are told to subscribe again. One confirm channel per connection
 * carries every publish, so confirms of concurrent publishes are pipelined.
 */
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { type ChannelModel, type ConfirmChannel, connect, type SocketOptions } from "amqplib";
import { errorMessage } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import type { QueueKind } from "../types.js";
import { declareQueues, QueueArgumentsError } from "./arguments.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import { redactUrl } from "./url.js";

/** One established connection; `alive` turns false for good when it is lost or closed. */
export interface Session {
  readonly connection: ChannelModel;
  readonly publisher: ConfirmChannel;
  alive: boolean;
}

export interface LinkOptions {
  readonly url: string;
  readonly socketOptions: SocketOptions;
  readonly kinds: ReadonlyMap<string, QueueKind>;
  readonly backoff: BackoffOptions;
  readonly logger: Logger;
}

export class BrokerUnavailableError extends Error {
  override readonly name = "BrokerUnavailableError";
}

const CONNECT_TIMEOUT_MS = 10_000;

export class AmqpLink {
  private session: Session | undefined;
  private readonly events = new EventEmitter();
  private closing = false;
  private lastError: Error | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  readonly where: string;

  constructor(private readonly options: LinkOptions) {
    this.where = redactUrl(options.url);
    this.events.setMaxListeners(0);
  }

  get closed(): boolean {
    return this.closing;
  }

  /** The first connection: fails right away (no retries) so a wrong URL or a refused login is plain. */
  async open(): Promise<void> {
    this.session = await this.establish();
  }

  /** The live session, waiting up to `timeoutMs` for a lost connection to come back. */
  async current(timeoutMs: number, purpose: string): Promise<Session> {
    if (this.session?.alive) return this.session;
    if (this.closing) throw new Error("queue backend is closed");
    return new Promise<Session>((resolve, reject) => {
      const onUp = (session: Session): void => {
        clearTimeout(timer);
        this.events.off("closed", onClosed);
        resolve(session);
      };
      const onClosed = (): void => {
        clearTimeout(timer);
        this.events.off("up", onUp);
        reject(new Error("queue backend is closed"));
      };
      const timer = setTimeout(() => {
        this.events.off("up", onUp);
        this.events.off("closed", onClosed);
        const why = this.lastError ? `: ${errorMessage(this.lastError)}` : "";
        reject(
          new BrokerUnavailableError(
            `RabbitMQ at ${this.where} has been unreachable for ${timeoutMs} ms, so ${purpose} failed${why}`,
          ),
        );
      }, timeoutMs);
      this.events.once("up", onUp);
      this.events.once("closed", onClosed);
    });
  }

  /** Called with each new session after a reconnect (not for the first one). */
  onReconnect(listener: (session: Session) => void): () => void {
    this.events.on("reconnected", listener);
    return () => this.events.off("reconnected", listener);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.events.emit("closed");
    const session = this.session;
    this.session = undefined;
    if (session?.alive) {
      session.alive = false;
      // The broker requeues every unacked delivery of the connection.
      await session.connection.close().catch(() => {});
    }
  }

  private async establish(): Promise<Session> {
    const { url, socketOptions, logger } = this.options;
    const connection = await connect(url, { timeout: CONNECT_TIMEOUT_MS, ...socketOptions });
    let session: Session | undefined;
    connection.on("error", (error: Error) => {
      this.lastError = error;
      logger.warn({ broker: this.where, error: errorMessage(error) }, "RabbitMQ connection error");
    });
    connection.on("close", () => {
      if (session) this.lost(session);
    });
    connection.on("blocked", (reason: string) =>
      logger.warn({ broker: this.where, reason }, "RabbitMQ blocks publishing (resource alarm)"),
    );
    connection.on("unblocked", () => logger.info({ broker: this.where }, "RabbitMQ accepts publishes again"));
    try {
      await declareQueues(connection, this.options.kinds);
      const publisher = await connection.createConfirmChannel();
      publisher.on("error", (error: Error) => {
        this.lastError = error;
        logger.warn({ error: errorMessage(error) }, "RabbitMQ publishing channel failed");
      });
      session = { connection, publisher, alive: true };
      const established = session;
      // A lost publishing channel on a live connection: start over on a new connection.
      publisher.on("close", () => {
        if (established.alive) void connection.close().catch(() => {});
      });
      return session;
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  private lost(session: Session): void {
    if (!session.alive) return;
    session.alive = false;
    if (this.session === session) this.session = undefined;
    if (this.closing) return;
    this.options.logger.warn(
      { broker: this.where, error: this.lastError ? errorMessage(this.lastError) : undefined },
      "lost the connection to RabbitMQ; reconnecting",
    );
    this.attempt = 0;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt++, this.options.backoff);
    this.reconnectTimer = setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    if (this.closing) return;
    let session: Session;
    try {
      session = await this.establish();
    } catch (error) {
      this.lastError = error as Error;
      const level = error instanceof QueueArgumentsError ? "error" : "warn";
      this.options.logger[level](
        { broker: this.where, attempt: this.attempt, error: errorMessage(error) },
        "reconnecting to RabbitMQ failed; trying again",
      );
      if (!this.closing) this.scheduleReconnect();
      return;
    }
    if (this.closing) {
      session.alive = false;
      await session.connection.close().catch(() => {});
      return;
    }
    this.session = session;
    this.lastError = undefined;
    this.options.logger.info({ broker: this.where, attempts: this.attempt }, "reconnected to RabbitMQ");
    this.events.emit("reconnected", session);
    this.events.emit("up", session);
  }
}

/** The socket options hangar always sets: noDelay (see docs/rabbitmq.md) and a connection name. */
export function baseSocketOptions(): { noDelay: true; clientProperties: Record<string, string> } {
  return {
    // Without it Nagle's algorithm holds back small frames: about 44 ms per publisher confirm.
    noDelay: true,
    clientProperties: { connection_name: `hangar ${hostname()} pid ${process.pid}` },
  };
}
