export { createWebhookHandler, MissingSecretError, type WebhookOptions } from "./handler.js";
export { startWebhookServer, type RunningWebhook } from "./server.js";
export { decide, type FilterDecision, type FilterRule, filterRules } from "./filter.js";
export { buildEnvelope } from "./envelope.js";
