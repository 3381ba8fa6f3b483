/** The queue backend hangar.yaml asks for (`queue.driver`), opened with its settings. */
import {
  ConfigError,
  configPath,
  type HangarConfig,
  type LoadedConfig,
  queueLayout,
  resolveOptionalSecret,
  type SecretContext,
} from "../config/index.js";
import type { Logger } from "../util/logger.js";
import type { AmqpTlsOptions } from "./amqp/backend.js";
import { openQueue } from "./index.js";
import type { QueueBackend } from "./types.js";

export function openConfiguredQueue(
  loaded: LoadedConfig,
  env: Readonly<Record<string, string | undefined>>,
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
    case "amqp": {
      const amqp = config.queue.amqp;
      if (amqp === undefined) {
        throw new ConfigError(loaded.source, [
          "queue.amqp.url: required with queue.driver: amqp, e.g. amqps://rabbitmq.example.com:5671",
        ]);
      }
      const tls = amqpTls(loaded, amqp.tls, { env, baseDir: loaded.baseDir });
      return openQueue({
        driver: "amqp",
        url: amqp.url,
        layout: queueLayout(config),
        logger,
        ...(tls ? { tls } : {}),
      });
    }
  }
}

type AmqpTlsConfig = NonNullable<NonNullable<HangarConfig["queue"]["amqp"]>["tls"]>;

/** queue.amqp.tls.{ca,cert,key}: secrets holding PEM text, usually `{file: PATH}`. */
function amqpTls(
  loaded: LoadedConfig,
  tls: AmqpTlsConfig | undefined,
  context: SecretContext,
): AmqpTlsOptions | undefined {
  if (tls === undefined) return undefined;
  const ca = resolveOptionalSecret(tls.ca, "queue.amqp.tls.ca", context);
  const cert = resolveOptionalSecret(tls.cert, "queue.amqp.tls.cert", context);
  const key = resolveOptionalSecret(tls.key, "queue.amqp.tls.key", context);
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(loaded.source, [
      "queue.amqp.tls: cert and key go together (the client certificate and its private key); set both or neither",
    ]);
  }
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
  };
}
