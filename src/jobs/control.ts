/**
 * Requests to workers, as markers in the store that every worker on every
 * host can read (the dashboard writes them; a worker looks at each heartbeat):
 *
 *   hangar-control/cancel/<slug>    stop this job ("Cancelled"), or drop it when picked up
 *   hangar-control/drain/<worker>   take no more work; running jobs finish
 *
 * A worker removes its drain marker when it starts, so draining lasts until a restart.
 */
import type { Store } from "../store/types.js";

const PREFIX = "hangar-control";

const safe = (name: string) => name.replace(/[^\w.-]+/g, "-").slice(0, 200);

export const cancelKey = (slug: string): string => `${PREFIX}/cancel/${safe(slug)}`;
export const drainKey = (worker: string): string => `${PREFIX}/drain/${safe(worker)}`;

export async function cancelRequested(store: Store, slug: string): Promise<boolean> {
  return (await store.get(cancelKey(slug))) !== null;
}

export async function drainRequested(store: Store, worker: string): Promise<boolean> {
  return (await store.get(drainKey(worker))) !== null;
}

export function clearDrain(store: Store, worker: string): Promise<void> {
  return store.delete(drainKey(worker));
}
