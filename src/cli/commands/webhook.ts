/** `hangar webhook`: phase one on its own, the only part that needs the production webhook secret. */
import type { Command } from "commander";
import { ConfigError, configPath, type LoadedConfig, loadConfigFile, queueLayout, resolveSecret } from "../../config/index.js";
import { openQueue } from "../../queue/index.js";
import type { QueueBackend } from "../../queue/types.js";
import { createLogger, type Logger } from "../../util/logger.js";
import { type RunningWebhook, startWebhookServer } from "../../webhook/index.js";

/** The webhook secret, or a ConfigError naming `webhook.secret` when it is not configured. */
export function webhookSecret(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): string {
  const ref = loaded.config.webhook.secret;
  if (ref === undefined) {
    throw new ConfigError(loaded.source, [
      "webhook.secret: required, the webhook verifies every delivery's X-Hub-Signature-256 with it; set it to a string, {file: PATH} or {env: NAME}",
    ]);
  }
  return resolveSecret(ref, "webhook.secret", { env, baseDir: loaded.baseDir });
}

export async function openConfiguredQueue(loaded: LoadedConfig, logger: Logger): Promise<QueueBackend> {
  const { config } = loaded;
  if (config.queue.driver !== "sqlite") {
    throw new ConfigError(loaded.source, [`queue.driver: ${config.queue.driver} is not supported by hangar webhook yet`]);
  }
  return openQueue({ driver: "sqlite", path: configPath(loaded, config.queue.sqlite.path), layout: queueLayout(config), logger });
}

/** Everything `hangar webhook` runs, minus signal handling: the queue and the server, closed together. */
export async function startWebhookFromConfig(loaded: LoadedConfig, logger: Logger): Promise<RunningWebhook> {
  const secret = webhookSecret(loaded);
  const queue = await openConfiguredQueue(loaded, logger.child({ part: "queue" }));
  let server: RunningWebhook;
  try {
    server = await startWebhookServer({ config: loaded.config, secret, queue, logger: logger.child({ part: "webhook" }) });
  } catch (error) {
    await queue.close();
    throw error;
  }
  return {
    url: server.url,
    close: async () => {
      await server.close();
      await queue.close();
    },
  };
}

export function register(program: Command): void {
  program
    .command("webhook")
    .description("receive GitHub webhooks: verify the signature, queue the payload durably, then answer")
    .option("-c, --config <file>", "configuration file", "hangar.yaml")
    .action(async (options: { config: string }) => {
      const loaded = loadConfigFile(options.config);
      const logger = createLogger({ level: loaded.config.log.level });
      const running = await startWebhookFromConfig(loaded, logger);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          logger.info({ signal }, "webhook stopping");
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await running.close();
    });
}
