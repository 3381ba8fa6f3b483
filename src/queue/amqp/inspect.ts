/**
 * Looking at a queue without consuming it. AMQP 0-9-1 has no peek: the
 * entries are fetched with basic.get and given back at once with
 * basic.nack(requeue), which puts them back at their place in the queue but
 * marks them redelivered (see docs/rabbitmq.md for this trade-off). The
 * count of waiting entries comes from a passive declare (checkQueue).
 */
import type { Channel, GetMessage } from "amqplib";
import type { PeekedEntry } from "../types.js";
import type { Session } from "./link.js";

export async function withChannel<T>(session: Session, use: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await session.connection.createChannel();
  // The error event repeats what the failed operation's rejection says.
  channel.on("error", () => {});
  let open = true;
  channel.once("close", () => {
    open = false;
  });
  try {
    return await use(channel);
  } finally {
    if (open) await channel.close().catch(() => {});
  }
}

export async function peekQueue(
  session: Session,
  queue: string,
  limit: number,
): Promise<{ ready: number; entries: PeekedEntry[] }> {
  return withChannel(session, async (channel) => {
    const { messageCount } = await channel.checkQueue(queue);
    const fetched: GetMessage[] = [];
    try {
      while (fetched.length < Math.min(limit, messageCount)) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) break;
        fetched.push(message);
      }
    } finally {
      if (fetched.length > 0) channel.nackAll(true);
    }
    const entries = fetched.map((message) => ({
      priority: typeof message.properties.priority === "number" ? message.properties.priority : 0,
      body: message.content,
      redelivered: message.fields.redelivered,
    }));
    return { ready: messageCount, entries };
  });
}
