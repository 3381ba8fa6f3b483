/**
 * Queue declarations exactly as Cockpit's bots make them, so a hangar and a
 * bots worker can share a broker: all durable; `webhook` without arguments,
 * task queues with x-max-priority 9, `statistics` also with single active
 * consumer. RabbitMQ refuses a declaration that differs from an existing
 * queue's with PRECONDITION_FAILED; QueueArgumentsError explains that.
 */
import type { Channel, ChannelModel } from "amqplib";
import { MAX_PRIORITY, type QueueKind } from "../types.js";

export type QueueArguments = Readonly<Record<string, number | boolean>>;

export function queueArguments(kind: QueueKind): QueueArguments {
  switch (kind) {
    case "webhook":
      return {};
    case "task":
      return { "x-max-priority": MAX_PRIORITY };
    case "statistics":
      return { "x-max-priority": MAX_PRIORITY, "x-single-active-consumer": true };
  }
}

export class QueueArgumentsError extends Error {
  override readonly name = "QueueArgumentsError";
  constructor(
    readonly queue: string,
    readonly expected: QueueArguments,
    brokerMessage: string,
  ) {
    const wanted = Object.keys(expected).length === 0 ? "no arguments" : JSON.stringify(expected);
    super(
      `queue "${queue}" already exists on the broker with other arguments than hangar declares ` +
        `(durable, ${wanted}, as Cockpit's bots do). The broker says: ${brokerMessage}. ` +
        `To fix it, delete the queue so hangar can declare it (its entries are lost: ` +
        `rabbitmqctl delete_queue ${queue}), or give hangar another queue name under queue.names in hangar.yaml.`,
    );
  }
}

/** The AMQP reply code of a channel error (amqplib puts it on the error). */
export function replyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

const PRECONDITION_FAILED = 406;

/** RabbitMQ's own words, without amqplib's wrapping: "PRECONDITION_FAILED - inequivalent arg ...". */
function brokerText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /with message "(.*)"$/s.exec(message);
  return quoted?.[1] ?? message;
}

/** Declare on the given channel; a mismatch closes that channel and becomes a QueueArgumentsError. */
export async function declareQueue(channel: Channel, queue: string, kind: QueueKind): Promise<void> {
  const args = queueArguments(kind);
  try {
    await channel.assertQueue(queue, { durable: true, arguments: args });
  } catch (error) {
    if (replyCode(error) === PRECONDITION_FAILED)
      throw new QueueArgumentsError(queue, args, brokerText(error));
    throw error;
  }
}

/** Declare every queue, each on a fresh channel since a failed declaration closes its channel. */
export async function declareQueues(
  connection: ChannelModel,
  kinds: ReadonlyMap<string, QueueKind>,
): Promise<void> {
  const channel = await connection.createChannel();
  // The error event repeats what the failed operation's rejection says.
  channel.on("error", () => {});
  let open = true;
  channel.once("close", () => {
    open = false;
  });
  try {
    for (const [queue, kind] of kinds) await declareQueue(channel, queue, kind);
  } finally {
    if (open) await channel.close();
  }
}
