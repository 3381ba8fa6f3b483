/** Values derived from the configuration, in one place so every part agrees. */
import { hostname } from "node:os";
import type { QueueLayout } from "../queue/types.js";
import type { ContextEntry, HangarConfig } from "./schema.js";

export function workerName(config: HangarConfig): string {
  return config.worker.name ?? hostname();
}

/** The capability that sends a context to the internal queue instead of the public one. */
export const INTERNAL_CAPABILITY = "internal";

interface Route {
  readonly base: string;
  /** Sorted, without duplicates and without `internal`. */
  readonly capabilities: readonly string[];
  readonly queue: string;
}

function route(config: HangarConfig, entry: ContextEntry): Route {
  const names = config.queue.names;
  const wanted = typeof entry === "string" ? [] : (entry.capabilities ?? []);
  const internal =
    (typeof entry !== "string" && entry.internal === true) || wanted.includes(INTERNAL_CAPABILITY);
  const capabilities = [...new Set(wanted.filter((c) => c !== INTERNAL_CAPABILITY))].sort();
  const base = internal ? names.internal : names.public;
  return { base, capabilities, queue: [base, ...capabilities].join("-") };
}

/**
 * The task queue of a context: `public` or `internal`, followed by the
 * capabilities it needs, sorted (`public-browser-kvm`). Only workers with all
 * of those capabilities consume such a queue.
 */
export function contextQueue(config: HangarConfig, entry: ContextEntry): string {
  return route(config, entry).queue;
}

function allRoutes(config: HangarConfig): Route[] {
  const routes = new Map<string, Route>();
  for (const project of Object.values(config.projects)) {
    for (const entries of Object.values(project.branches)) {
      for (const entry of entries) {
        const found = route(config, entry);
        routes.set(found.queue, found);
      }
    }
  }
  return [...routes.values()];
}

/** Every task queue: the two base queues plus one per capability set the test map uses. */
export function taskQueues(config: HangarConfig): string[] {
  const names = config.queue.names;
  const queues = new Set([names.public, names.internal, ...allRoutes(config).map((r) => r.queue)]);
  return [...queues];
}

/**
 * The queues a worker consumes: `worker.queues` (default: public, plus internal
 * for a worker with the `internal` capability), and every capability queue of
 * those whose capabilities the worker all has.
 */
export function workerQueues(
  config: HangarConfig,
  capabilities: readonly string[] = config.worker.capabilities,
): string[] {
  const names = config.queue.names;
  const bases =
    config.worker.queues ??
    (capabilities.includes(INTERNAL_CAPABILITY) ? [names.public, names.internal] : [names.public]);
  const queues = new Set(bases);
  for (const found of allRoutes(config)) {
    if (bases.includes(found.base) && found.capabilities.every((c) => capabilities.includes(c))) {
      queues.add(found.queue);
    }
  }
  return [...queues];
}

/** Base URL of status links: store.publicUrl, else the fs store's own server. */
export function publicUrl(config: HangarConfig): string {
  const base = config.store.publicUrl ?? `http://${config.store.fs.listen}`;
  return base.endsWith("/") ? base : `${base}/`;
}

/**
 * Every queue a backend declares. The events queue is declared like a task
 * queue (durable, x-max-priority 9): Cockpit's bots never read it, and the
 * declarations of Cockpit's own queues stay exactly theirs.
 */
export function queueLayout(config: HangarConfig): QueueLayout {
  const names = config.queue.names;
  return {
    webhook: names.webhook,
    tasks: [...taskQueues(config), names.events],
    statistics: names.statistics,
  };
}

export function contextName(entry: ContextEntry): string {
  return typeof entry === "string" ? entry : entry.name;
}
