/**
 * The dashboard's control channel to workers: request markers in the store
 * (keys and their meaning in src/jobs/control.ts), which every worker on
 * every host reads at each heartbeat. A request is JSON `{requestedAt, by}`.
 */
import { cancelKey, drainKey } from "../jobs/control.js";
import type { Store } from "../store/types.js";
import type { DashboardControl } from "./actions.js";

const request = () => `${JSON.stringify({ requestedAt: new Date().toISOString(), by: "dashboard" })}\n`;

export function storeControl(store: Store): DashboardControl {
  return {
    cancelJob: (id) => store.put(cancelKey(id), request(), { contentType: "application/json" }),
    drainWorker: (name) => store.put(drainKey(name), request(), { contentType: "application/json" }),
  };
}
