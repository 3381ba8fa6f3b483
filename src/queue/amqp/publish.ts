/**
 * Publishing with publisher confirms: persistent messages on the shared
 * confirm channel, resolved when the broker confirmed them. During an outage
 * a publish waits for the connection to come back, up to a bound; an entry
 * whose confirm was lost with the connection is sent again (at-least-once:
 * the broker may already have had it).
 */
import type { ConfirmChannel } from "amqplib";
import { type AmqpLink, BrokerUnavailableError } from "./link.js";

export class PublishNackedError extends Error {
  override readonly name = "PublishNackedError";
}

function confirmOne(channel: ConfirmChannel, queue: string, body: Buffer, priority: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // Throws synchronously on a channel that is already closed.
    channel.sendToQueue(queue, body, { persistent: true, priority }, (error: unknown) =>
      error ? reject(error) : resolve(),
    );
  });
}

export async function publishConfirmed(
  link: AmqpLink,
  queue: string,
  body: Buffer,
  priority: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const session = await link.current(Math.max(0, deadline - Date.now()), `publishing to ${queue}`);
    try {
      await confirmOne(session.publisher, queue, body, priority);
      return;
    } catch (error) {
      if (link.closed)
        throw new Error(`queue backend is closed; the entry for ${queue} may not have been published`);
      if (error instanceof Error && error.message === "message nacked") {
        throw new PublishNackedError(`RabbitMQ refused to take an entry for ${queue} (basic.nack)`);
      }
      if (Date.now() >= deadline) {
        throw new BrokerUnavailableError(
          `publishing to ${queue} failed: the connection to RabbitMQ at ${link.where} was lost and did not come back within ${timeoutMs} ms`,
        );
      }
      // The channel or connection went away before the confirm: wait for the next one and send again.
      if (session.alive) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
