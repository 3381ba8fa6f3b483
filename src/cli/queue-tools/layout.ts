/** The configured queues and their kinds, and a usage error for any other name. */
import { type HangarConfig, queueLayout } from "../../config/index.js";
import { queueKinds } from "../../queue/layout.js";
import type { QueueKind } from "../../queue/types.js";
import { UsageError } from "../errors.js";

export function configuredQueues(config: HangarConfig): Map<string, QueueKind> {
  return queueKinds(queueLayout(config));
}

export function queueKind(queues: ReadonlyMap<string, QueueKind>, queue: string): QueueKind {
  const kind = queues.get(queue);
  if (kind === undefined) {
    throw new UsageError(
      `unknown queue "${queue}"; the configured queues are: ${[...queues.keys()].join(", ")}`,
    );
  }
  return kind;
}
