export { type ActionResult, type DashboardControl, DIRECT_TRIGGER } from "./actions.js";
export { type LogTail, readLogTail } from "./log-tail.js";
export {
  createDashboardHandler,
  type DashboardOptions,
  type RunningDashboard,
  startDashboard,
} from "./server.js";
export type { DashboardSources } from "./view.js";
