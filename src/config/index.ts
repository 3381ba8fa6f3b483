export {
  contextName,
  contextQueue,
  INTERNAL_CAPABILITY,
  publicUrl,
  queueLayout,
  taskQueues,
  workerName,
  workerQueues,
} from "./derived.js";
export {
  ConfigError,
  configPath,
  type LoadedConfig,
  loadConfigFile,
  parseConfig,
  parseConfigText,
} from "./load.js";
export {
  type ConfigInput,
  type ContextEntry,
  configSchema,
  type HangarConfig,
  type ScheduleEntry,
  type SecretRef,
} from "./schema.js";
export { resolveOptionalSecret, resolveSecret, type SecretContext, SecretError } from "./secrets.js";
