export { readEnvelope, type ScanRequest } from "./events.js";
export { makeTask, type Subject, type TaskMessage } from "./jobs.js";
export {
  IN_PROGRESS,
  MANUAL_TESTING_REQUIRED,
  NOT_YET_TESTED,
  planScan,
  type ScanAction,
  type ScanPlan,
} from "./plan.js";
export { applyPlan, type ScannerDeps, startScanner } from "./scanner.js";
export { automaticContexts, type ContextSpec, findContext } from "./testmap.js";
