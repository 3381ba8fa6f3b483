export { recordJobEvent } from "./events.js";
export { instrumentForge } from "./forge.js";
export {
  addMetricsSource,
  type MetricsSource,
  metricsText,
  recordGitHubCall,
  recordJobFinished,
  recordJobStarted,
  recordWebhookDelivery,
  recordWorkerHeartbeat,
  registry,
} from "./registry.js";
