/** The webhook's own HTTP server, for `hangar webhook` and for running in-process. */
import { createServer } from "node:http";
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

export async function startWebhookServer(options: WebhookOptions): Promise<RunningWebhook> {
  const ingest = await ingestFor(options);
  const ownIngest = ingest !== undefined && options.ingest === undefined;
  const server = createServer(
    { requestTimeout: 30_000 },
    createWebhookHandler(ingest === undefined ? options : { ...options, ingest }),
  );
  let url: string;
  try {
    url = await listen(server, options.config.webhook.listen);
  } catch (error) {
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
    close: () => closeServer(server, CLOSE_GRACE_MS).finally(() => (ownIngest ? ingest.close() : undefined)),
  };
}
