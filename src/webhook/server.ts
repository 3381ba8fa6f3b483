/** The webhook's own HTTP server, for `hangar webhook` and for running in-process. */
import { createServer, type ServerOptions } from "node:http";
import type { HangarConfig } from "../config/index.js";
import { closeServer, listen } from "../util/http-server.js";
import { createWebhookHandler, type WebhookOptions } from "./handler.js";
import { type Ingest, openIngest } from "./ingest.js";

export interface RunningWebhook {
  /** Base URL deliveries are posted to, e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  /** Stop accepting, let requests in flight finish, then resolve. */
  close(): Promise<void>;
}

const CLOSE_GRACE_MS = 5000;

async function ingestFor(options: WebhookOptions): Promise<Ingest | undefined> {
  if (options.ingest !== undefined || options.spoolDir === undefined) return options.ingest;
  const { webhook, queue } = options.config;
  return openIngest({
    queue: options.queue,
    queueName: queue.names.webhook,
    logger: options.logger,
    publishTimeoutMs: webhook.spool.publishTimeoutMs,
    spoolDir: options.spoolDir,
    retentionMs: webhook.dedupe.retentionHours * 3600_000,
    maxEntries: webhook.dedupe.maxEntries,
  });
}

/**
 * Node's own timeouts: headers (slowloris) and, as a backstop behind the body
 * watch, the whole request. Node checks them every connectionsCheckingInterval,
 * so that runs often enough for the shortest of them to mean what it says.
 */
function serverLimits(webhook: HangarConfig["webhook"]): ServerOptions {
  return {
    headersTimeout: webhook.headersTimeoutMs,
    requestTimeout: webhook.headersTimeoutMs + webhook.bodyTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, webhook.headersTimeoutMs / 4)),
  };
}

export async function startWebhookServer(options: WebhookOptions): Promise<RunningWebhook> {
  const ingest = await ingestFor(options);
  const ownIngest = ingest !== undefined && options.ingest === undefined;
  const handler = createWebhookHandler(ingest === undefined ? options : { ...options, ingest });
  const server = createServer(serverLimits(options.config.webhook), handler);
  server.maxConnections = options.config.webhook.maxConnections;
  let url: string;
  try {
    url = await listen(server, options.config.webhook.listen);
  } catch (error) {
    handler.close();
    if (ownIngest) await ingest.close();
    throw error;
  }
  options.logger.info(
    { url, queue: options.config.queue.names.webhook, spool: options.spoolDir ?? null },
    "webhook listening",
  );
  if (options.insecure ?? options.config.webhook.insecureNoSignature) {
    options.logger.warn(
      "INSECURE MODE: this webhook accepts deliveries without a signature (webhook.insecureNoSignature / --insecure-no-signature). Anyone who can reach it can queue work. Never use this in production.",
    );
  }

  return {
    url,
    close: () =>
      closeServer(server, CLOSE_GRACE_MS).finally(() => {
        handler.close();
        return ownIngest ? ingest.close() : undefined;
      }),
  };
}
