export { ConfigError, configPath, type LoadedConfig, loadConfigFile, parseConfig, parseConfigText } from "./load.js";
export { type ContextEntry, type ConfigInput, type HangarConfig, type SecretRef, configSchema } from "./schema.js";
export { resolveOptionalSecret, resolveSecret, type SecretContext, SecretError } from "./secrets.js";
export { contextName, publicUrl, queueLayout, workerName, workerQueues } from "./derived.js";
