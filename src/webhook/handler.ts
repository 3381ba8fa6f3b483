/**
 * The webhook request handler: routes, answers, logs and counts each request.
 * What a delivery goes through is in receive.ts; the limits that keep hostile
 * traffic bounded (bytes in flight, slow bodies) are owned here, one set per
 * handler.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { HangarConfig } from "../config/index.js";
import { recordWebhookDelivery } from "../metrics/registry.js";
import type { QueueBackend } from "../queue/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { ByteBudget } from "./budget.js";
import { Ingest } from "./ingest.js";
import { header, type ReceiveContext, receiveDelivery } from "./receive.js";
import { type Result, rejected } from "./result.js";
import { TransferWatch } from "./transfer.js";

export interface WebhookOptions {
  readonly config: HangarConfig;
  /** May be empty only with `insecure`. */
  readonly secret: string;
  readonly queue: QueueBackend;
  readonly logger: Logger;
  /** Where deliveries go in; a plain publish (503 when it fails) when absent. startWebhookServer opens the spool. */
  readonly ingest?: Ingest;
  /** Directory of the spool and the accepted-ids record, for startWebhookServer; none when absent. */
  readonly spoolDir?: string;
  /** Accept unsigned deliveries; defaults to webhook.insecureNoSignature. */
  readonly insecure?: boolean;
}

export class MissingSecretError extends Error {
  override readonly name = "MissingSecretError";
  constructor() {
    super(
      "webhook.secret is not set: the webhook refuses to accept unverifiable deliveries; set webhook.secret to a string, {file: PATH} or {env: NAME}",
    );
  }
}

/** An X-GitHub-Event is logged as sent only once the signature passed; before, at most this much of it. */
const MAX_LOGGED_UNVERIFIED = 64;

export type WebhookHandler = RequestListener & {
  /** Stop the slow-body sweep (the server is closing). */
  close(): void;
};

export function createWebhookHandler(options: WebhookOptions): WebhookHandler {
  const { config, secret, queue, logger } = options;
  const insecure = options.insecure ?? config.webhook.insecureNoSignature;
  if (secret === "" && !insecure) throw new MissingSecretError();
  const { webhook } = config;
  const queueName = config.queue.names.webhook;
  const context: ReceiveContext = {
    secret,
    insecure,
    maxBodyBytes: webhook.maxBodyBytes,
    budget: new ByteBudget(webhook.maxBytesInFlight),
    watch: new TransferWatch({
      bodyTimeoutMs: webhook.bodyTimeoutMs,
      minBytesPerSecond: webhook.minBytesPerSecond,
      graceMs: Math.min(2000, webhook.bodyTimeoutMs / 2),
    }),
    ingest:
      options.ingest ??
      new Ingest({ queue, queueName, logger, publishTimeoutMs: webhook.spool.publishTimeoutMs }),
    queueName,
    logger,
  };

  function route(req: IncomingMessage, res: ServerResponse): Promise<Result> | Result {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path === "/") {
      if (req.method !== "POST") {
        return rejected(405, "method_not_allowed", "use POST", { headers: { allow: "POST" } });
      }
      // Held until the answer is out: the body stays in memory that long.
      const reservation = context.budget.open();
      res.once("close", () => reservation.release());
      return receiveDelivery(req, context, reservation);
    }
    if (path === "/healthz") {
      if (req.method === "GET" || req.method === "HEAD")
        return { status: 200, outcome: "health", body: { ok: true } };
      return rejected(405, "method_not_allowed", "use GET", { headers: { allow: "GET, HEAD" } });
    }
    return rejected(404, "not_found", "not found");
  }

  function respond(req: IncomingMessage, res: ServerResponse, result: Result, started: bigint): void {
    if (!res.headersSent && !res.destroyed) {
      const text = JSON.stringify(result.body);
      const headers: Record<string, string | number> = {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        ...result.headers,
      };
      if (result.closeConnection) headers.connection = "close";
      res.writeHead(result.status, headers);
      res.end(req.method === "HEAD" ? undefined : text);
      if (result.closeConnection) {
        // The rest of the request is never read: drop the connection once the answer is out.
        res.once("finish", () => req.socket.destroy());
      }
    }
    log(req, result, Number(process.hrtime.bigint() - started) / 1e6);
  }

  function log(req: IncomingMessage, result: Result, ms: number): void {
    if (result.outcome === "health") return;
    recordWebhookDelivery(result.event, result.outcome, ms / 1000);
    const fields = {
      delivery: header(req, "x-github-delivery")?.slice(0, MAX_LOGGED_UNVERIFIED),
      event: result.event ?? header(req, "x-github-event")?.slice(0, MAX_LOGGED_UNVERIFIED),
      action: result.action,
      outcome: result.outcome,
      status: result.status,
      reason: result.reason,
      ms: Math.round(ms * 100) / 100,
    };
    if (result.status >= 500) logger.error(fields, "webhook delivery");
    else if (result.status >= 400 || result.outcome === "spooled") logger.warn(fields, "webhook delivery");
    else logger.info(fields, "webhook delivery");
  }

  const handler: RequestListener = (req, res) => {
    const started = process.hrtime.bigint();
    Promise.resolve(route(req, res)).then(
      (result) => respond(req, res, result, started),
      (error: unknown) => {
        logger.error({ err: errorMessage(error) }, "webhook handler failed");
        respond(req, res, rejected(500, "internal_error", "internal error"), started);
      },
    );
  };
  return Object.assign(handler, { close: () => context.watch.close() });
}
