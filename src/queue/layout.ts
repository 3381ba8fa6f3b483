/** The queues a layout declares, the error for any other name, and the checks every backend applies. */
import { MAX_PRIORITY, MIN_PRIORITY, type QueueKind, type QueueLayout } from "./types.js";

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

export function checkPriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw new RangeError(
      `priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${priority}`,
    );
  }
  return priority;
}

export function checkInspectLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0)
    throw new RangeError(`limit must be an integer >= 0, got ${limit}`);
  return limit;
}
