/** The queue backend hangar.yaml asks for (`queue.driver`), opened with its settings. */
import { ConfigError, configPath, type LoadedConfig, queueLayout } from "../config/index.js";
import type { Logger } from "../util/logger.js";
import { openQueue } from "./index.js";
import type { QueueBackend } from "./types.js";

export function openConfiguredQueue(
  loaded: LoadedConfig,
  _env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<QueueBackend> {
  const { config } = loaded;
  switch (config.queue.driver) {
    case "sqlite":
      return openQueue({
        driver: "sqlite",
        path: configPath(loaded, config.queue.sqlite.path),
        layout: queueLayout(config),
        logger,
      });
    case "amqp":
      throw new ConfigError(loaded.source, ["queue.driver: amqp is not supported by this build; use sqlite"]);
  }
}
