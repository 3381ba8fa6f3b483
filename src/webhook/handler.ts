/**
 * The webhook request handler: verify, filter, put the payload durably into
 * the `webhook` queue, and only then answer GitHub.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { HangarConfig } from "../config/index.js";
import { recordWebhookDelivery } from "../metrics/registry.js";
import type { QueueBackend } from "../queue/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { readBody } from "./body.js";
import { buildEnvelope } from "./envelope.js";
import { decide, type Payload } from "./filter.js";
import { Ingest } from "./ingest.js";
import { signatureValid } from "./signature.js";

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

/** GitHub's delivery ids are GUIDs; anything this long is not one. */
const MAX_DELIVERY_ID = 128;

export class MissingSecretError extends Error {
  override readonly name = "MissingSecretError";
  constructor() {
    super(
      "webhook.secret is not set: the webhook refuses to accept unverifiable deliveries; set webhook.secret to a string, {file: PATH} or {env: NAME}",
    );
  }
}

type Outcome =
  | "queued"
  | "spooled"
  | "duplicate"
  | "ignored"
  | "ping"
  | "unauthorized"
  | "bad_request"
  | "too_large"
  | "aborted"
  | "unavailable"
  | "internal_error"
  | "health"
  | "not_found"
  | "method_not_allowed";

interface Result {
  readonly status: number;
  readonly outcome: Outcome;
  readonly body: Readonly<Record<string, unknown>>;
  readonly event?: string;
  readonly action?: string;
  readonly reason?: string;
  readonly closeConnection?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

const FORM_TYPE = "application/x-www-form-urlencoded";

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function rejected(status: number, outcome: Outcome, error: string, extra: Partial<Result> = {}): Result {
  return { status, outcome, body: { error }, reason: error, ...extra };
}

/** The payload's JSON text: the body itself, or the `payload` field of a form-encoded body. */
function payloadText(req: IncomingMessage, body: string): string | undefined {
  const type = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (type !== FORM_TYPE) return body;
  return new URLSearchParams(body).get("payload") ?? undefined;
}

function parseObject(text: string): Payload | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Payload)
      : undefined;
  } catch {
    return undefined;
  }
}

export function createWebhookHandler(options: WebhookOptions): RequestListener {
  const { config, secret, queue, logger } = options;
  const insecure = options.insecure ?? config.webhook.insecureNoSignature;
  if (secret === "" && !insecure) throw new MissingSecretError();
  const queueName = config.queue.names.webhook;
  const maxBodyBytes = config.webhook.maxBodyBytes;
  const ingest =
    options.ingest ??
    new Ingest({ queue, queueName, logger, publishTimeoutMs: config.webhook.spool.publishTimeoutMs });

  /** undefined: go on; else the refusal. Unsigned (or, without a secret, unverifiable) only in insecure mode. */
  function checkSignature(req: IncomingMessage, body: Buffer): Result | undefined {
    const given = header(req, "x-hub-signature-256");
    if (given !== undefined && secret !== "") {
      return signatureValid(secret, body, given)
        ? undefined
        : rejected(401, "unauthorized", "invalid X-Hub-Signature-256");
    }
    if (!insecure) return rejected(401, "unauthorized", "missing X-Hub-Signature-256");
    logger.warn(
      { delivery: header(req, "x-github-delivery") },
      "INSECURE: accepting a delivery whose signature is not checked (webhook.insecureNoSignature)",
    );
    return undefined;
  }

  async function receive(req: IncomingMessage): Promise<Result> {
    const read = await readBody(req, maxBodyBytes);
    if (read.kind === "too_large") {
      return rejected(413, "too_large", `body larger than ${maxBodyBytes} bytes`, { closeConnection: true });
    }
    if (read.kind === "aborted") return rejected(400, "aborted", "request aborted");

    const refused = checkSignature(req, read.body);
    if (refused !== undefined) return refused;
    const raw = read.body.toString("utf8");
    const event = header(req, "x-github-event");
    if (event === undefined) return rejected(400, "bad_request", "missing X-GitHub-Event header");
    const text = payloadText(req, raw);
    if (text === undefined) {
      return rejected(400, "bad_request", "form-encoded body without a payload field", { event });
    }
    const payload = parseObject(text);
    if (payload === undefined) return rejected(400, "bad_request", "payload is not a JSON object", { event });

    const action = typeof payload.action === "string" ? payload.action : undefined;
    const seen = action === undefined ? { event } : { event, action };
    const decision = decide(event, payload);
    if (decision.kind === "ping") {
      return { status: 200, outcome: "ping", body: { queued: false, reason: "pong" }, ...seen };
    }
    if (decision.kind === "ignore") {
      return {
        status: 200,
        outcome: "ignored",
        body: { queued: false, reason: decision.reason },
        reason: decision.reason,
        ...seen,
      };
    }

    const delivery = header(req, "x-github-delivery");
    if (delivery !== undefined && delivery.length > MAX_DELIVERY_ID) {
      return rejected(400, "bad_request", "X-GitHub-Delivery is too long", seen);
    }
    const json = text === raw ? read.body : Buffer.from(text);
    const taken = await ingest.take(delivery, buildEnvelope(event, delivery, json));
    switch (taken.kind) {
      case "queued":
        return { status: 202, outcome: "queued", body: { queued: true, queue: queueName }, ...seen };
      case "spooled":
        return {
          status: 202,
          outcome: "spooled",
          body: { queued: true, spooled: true, reason: "queue unavailable; kept on disk until it is back" },
          reason: taken.reason,
          ...seen,
        };
      case "duplicate":
        return {
          status: 200,
          outcome: "duplicate",
          body: { queued: false, reason: `delivery ${delivery} was already accepted` },
          ...seen,
        };
      case "unavailable":
        return rejected(503, "unavailable", "cannot queue the delivery now; retry later", {
          ...seen,
          reason: taken.reason,
        });
    }
  }

  function route(req: IncomingMessage): Promise<Result> | Result {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path === "/") {
      if (req.method === "POST") return receive(req);
      return rejected(405, "method_not_allowed", "use POST", { headers: { allow: "POST" } });
    }
    if (path === "/healthz") {
      if (req.method === "GET" || req.method === "HEAD")
        return { status: 200, outcome: "health", body: { ok: true } };
      return rejected(405, "method_not_allowed", "use GET", { headers: { allow: "GET, HEAD" } });
    }
    return rejected(404, "not_found", "not found");
  }

  function respond(req: IncomingMessage, res: ServerResponse, result: Result, started: bigint): void {
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
      // The rest of an oversize body is never read: drop the connection once the answer is out.
      res.once("finish", () => req.socket.destroy());
    }
    log(req, result, Number(process.hrtime.bigint() - started) / 1e6);
  }

  function log(req: IncomingMessage, result: Result, ms: number): void {
    if (result.outcome === "health") return;
    recordWebhookDelivery(result.event ?? header(req, "x-github-event"), result.outcome, ms / 1000);
    const fields = {
      delivery: header(req, "x-github-delivery"),
      event: result.event ?? header(req, "x-github-event"),
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

  return (req, res) => {
    const started = process.hrtime.bigint();
    Promise.resolve(route(req)).then(
      (result) => respond(req, res, result, started),
      (error: unknown) => {
        logger.error({ err: errorMessage(error) }, "webhook handler failed");
        respond(req, res, rejected(500, "internal_error", "internal error"), started);
      },
    );
  };
}
