/**
 * The dashboard's control channel to workers: request markers in the store,
 * which every worker on every host can read (the same way the job fences in
 * src/jobs/fence.ts work). A worker looks for them at each heartbeat:
 *
 *   hangar-control/cancel/<slug>    stop this job (post "Cancelled"), or drop it when picked up
 *   hangar-control/drain/<worker>   take no more work; running jobs finish
 *
 * A request is JSON `{requestedAt, by}`. A worker removes a drain marker when
 * it starts again, so draining lasts until the worker's restart.
 */
import type { Store } from "../store/types.js";
import type { DashboardControl } from "./actions.js";

const PREFIX = "hangar-control";

const safe = (name: string) => name.replace(/[^\w.-]+/g, "-").slice(0, 200);

export const cancelKey = (slug: string): string => `${PREFIX}/cancel/${safe(slug)}`;
export const drainKey = (worker: string): string => `${PREFIX}/drain/${safe(worker)}`;

const request = () => `${JSON.stringify({ requestedAt: new Date().toISOString(), by: "dashboard" })}\n`;

export function storeControl(store: Store): DashboardControl {
  return {
    cancelJob: (id) => store.put(cancelKey(id), request(), { contentType: "application/json" }),
    drainWorker: (name) => store.put(drainKey(name), request(), { contentType: "application/json" }),
  };
}

/** For workers: was this job's cancellation requested? */
export async function cancelRequested(store: Store, slug: string): Promise<boolean> {
  return (await store.get(cancelKey(slug))) !== null;
}

/** For workers: was this worker asked to drain? */
export async function drainRequested(store: Store, worker: string): Promise<boolean> {
  return (await store.get(drainKey(worker))) !== null;
}

/** For workers at start: a new life begins undrained. */
export function clearDrain(store: Store, worker: string): Promise<void> {
  return store.delete(drainKey(worker));
}
