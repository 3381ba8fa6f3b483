/** Long-running commands: log setup from the config, and a clean stop on SIGINT/SIGTERM. */
import type { HangarConfig } from "../config/index.js";
import { createLogger, type Logger } from "../util/logger.js";

export function commandLogger(config: HangarConfig, level?: string): Logger {
  return createLogger({ level: level ?? config.log.level });
}

/** Resolves once SIGINT or SIGTERM arrived and `stop` has finished; a second signal exits at once. */
export function untilSignal(logger: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      logger.info({ signal }, "stopping");
      stop().then(resolve, (error: unknown) => {
        logger.error({ err: String(error) }, "error while stopping");
        resolve();
      });
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
