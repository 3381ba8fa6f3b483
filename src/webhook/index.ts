export { AcceptedDeliveries, type AcceptedOptions } from "./accepted.js";
export { buildEnvelope } from "./envelope.js";
export { decide, type FilterDecision, type FilterRule, filterRules } from "./filter.js";
export { createWebhookHandler, MissingSecretError, type WebhookOptions } from "./handler.js";
export {
  Ingest,
  type IngestOptions,
  type IngestOutcome,
  type OpenIngestOptions,
  openIngest,
} from "./ingest.js";
export { type RunningWebhook, startWebhookServer } from "./server.js";
export { expectedSignature, signatureValid } from "./signature.js";
export { DeliverySpool } from "./spool.js";
