export { readEnvelope, type ScanRequest } from "./events.js";
export { makeTask, type Subject, type TaskMessage } from "./jobs.js";
export { planScan, type ScanAction, type ScanPlan, IN_PROGRESS, MANUAL_TESTING_REQUIRED, NOT_YET_TESTED } from "./plan.js";
export { applyPlan, startScanner, type ScannerDeps } from "./scanner.js";
export { automaticContexts, findContext, type ContextSpec } from "./testmap.js";
