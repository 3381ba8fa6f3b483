/** Values derived from the configuration, in one place so every part agrees. */
import { hostname } from "node:os";
import type { QueueLayout } from "../queue/types.js";
import type { ContextEntry, HangarConfig } from "./schema.js";

export function workerName(config: HangarConfig): string {
  return config.worker.name ?? hostname();
}

export function workerQueues(config: HangarConfig): string[] {
  return config.worker.queues ?? [config.queue.names.public];
}

/** Base URL of status links: store.publicUrl, else the fs store's own server. */
export function publicUrl(config: HangarConfig): string {
  const base = config.store.publicUrl ?? `http://${config.store.fs.listen}`;
  return base.endsWith("/") ? base : `${base}/`;
}

export function queueLayout(config: HangarConfig): QueueLayout {
  const names = config.queue.names;
  return { webhook: names.webhook, tasks: [names.public, names.internal], statistics: names.statistics };
}

export function contextName(entry: ContextEntry): string {
  return typeof entry === "string" ? entry : entry.name;
}
