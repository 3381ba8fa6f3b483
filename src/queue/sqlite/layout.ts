/** The queues a layout declares, and the error for any other name. */
import type { QueueKind, QueueLayout } from "../types.js";

export class UnknownQueueError extends Error {
  override readonly name = "UnknownQueueError";
  constructor(
    readonly queue: string,
    readonly configured: readonly string[],
  ) {
    super(`unknown queue "${queue}"; the configured queues are: ${configured.join(", ")}`);
  }
}

export function queueKinds(layout: QueueLayout): Map<string, QueueKind> {
  const kinds = new Map<string, QueueKind>([[layout.webhook, "webhook"]]);
  for (const task of layout.tasks) kinds.set(task, "task");
  kinds.set(layout.statistics, "statistics");
  return kinds;
}

export function checkQueue(kinds: ReadonlyMap<string, QueueKind>, queue: string): void {
  if (!kinds.has(queue)) throw new UnknownQueueError(queue, [...kinds.keys()]);
}
