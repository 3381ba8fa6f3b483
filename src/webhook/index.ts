export { buildEnvelope } from "./envelope.js";
export { decide, type FilterDecision, type FilterRule, filterRules } from "./filter.js";
export { createWebhookHandler, MissingSecretError, type WebhookOptions } from "./handler.js";
export { type RunningWebhook, startWebhookServer } from "./server.js";
