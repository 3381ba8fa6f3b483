/**
 * Taking one POSTed delivery: refuse what the headers already condemn (no
 * signature, too large, no room in the budget) before reading a byte of the
 * body; stream the body through the HMAC; then filter and put it durably into
 * the `webhook` queue.
 */
import type { IncomingMessage } from "node:http";
import type { Logger } from "../util/logger.js";
import { readBody } from "./body.js";
import type { ByteBudget, Reservation } from "./budget.js";
import { buildEnvelope } from "./envelope.js";
import { decide, type Payload } from "./filter.js";
import type { Ingest } from "./ingest.js";
import { type Result, rejected, unavailable } from "./result.js";
import { parseSignature, StreamingSignature } from "./signature.js";
import type { TransferWatch } from "./transfer.js";

export interface ReceiveContext {
  /** "" only with `insecure`. */
  readonly secret: string;
  readonly insecure: boolean;
  readonly maxBodyBytes: number;
  readonly budget: ByteBudget;
  readonly watch: TransferWatch;
  readonly ingest: Ingest;
  readonly queueName: string;
  readonly logger: Logger;
}

/** GitHub's delivery ids are GUIDs; anything this long is not one. */
const MAX_DELIVERY_ID = 128;
const FORM_TYPE = "application/x-www-form-urlencoded";

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
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

/** The signature to check the body against; a Result when the request is refused on its headers. */
function expectSignature(
  req: IncomingMessage,
  context: ReceiveContext,
): StreamingSignature | undefined | Result {
  const given = header(req, "x-hub-signature-256");
  if (given !== undefined && context.secret !== "") {
    const digest = parseSignature(given);
    if (digest === undefined) {
      return rejected(401, "unauthorized", "invalid X-Hub-Signature-256", { closeConnection: true });
    }
    return new StreamingSignature(context.secret, digest);
  }
  if (!context.insecure) {
    return rejected(401, "unauthorized", "missing X-Hub-Signature-256", { closeConnection: true });
  }
  context.logger.warn(
    { delivery: header(req, "x-github-delivery") },
    "INSECURE: accepting a delivery whose signature is not checked (webhook.insecureNoSignature)",
  );
  return undefined;
}

/** Refusals decided on the headers alone, before any of the body is read. */
function refuseEarly(
  req: IncomingMessage,
  context: ReceiveContext,
  reservation: Reservation,
): Result | undefined {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > context.maxBodyBytes) {
    return rejected(413, "too_large", `body larger than ${context.maxBodyBytes} bytes`, {
      closeConnection: true,
    });
  }
  if (Number.isFinite(declared) && !reservation.ensure(declared)) {
    return overBudget();
  }
  return undefined;
}

function overBudget(): Result {
  return unavailable("over_budget", "too many bytes in flight; retry later", { closeConnection: true });
}

export async function receiveDelivery(
  req: IncomingMessage,
  context: ReceiveContext,
  reservation: Reservation,
): Promise<Result> {
  const signature = expectSignature(req, context);
  if (signature !== undefined && !(signature instanceof StreamingSignature)) return signature;
  const early = refuseEarly(req, context, reservation);
  if (early !== undefined) return early;

  const read = await readBody(req, {
    maxBytes: context.maxBodyBytes,
    reservation,
    signature,
    watch: context.watch,
  });
  switch (read.kind) {
    case "ok":
      break;
    case "too_large":
      return rejected(413, "too_large", `body larger than ${context.maxBodyBytes} bytes`, {
        closeConnection: true,
      });
    case "over_budget":
      return overBudget();
    case "aborted":
      return rejected(400, "aborted", "request aborted");
    case "body_timeout":
    case "too_slow":
      return rejected(408, read.kind, "the body arrived too slowly", { closeConnection: true });
  }
  if (signature !== undefined && !signature.valid()) {
    return rejected(401, "unauthorized", "invalid X-Hub-Signature-256");
  }
  return take(req, read.body, context);
}

/** A verified body: parse, filter and queue it. */
async function take(req: IncomingMessage, body: Buffer, context: ReceiveContext): Promise<Result> {
  const event = header(req, "x-github-event");
  if (event === undefined)
    return rejected(400, "bad_request", "missing X-GitHub-Event header", { event: "" });
  const raw = body.toString("utf8");
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
  const json = text === raw ? body : Buffer.from(text);
  const taken = await context.ingest.take(delivery, buildEnvelope(event, delivery, json));
  switch (taken.kind) {
    case "queued":
      return { status: 202, outcome: "queued", body: { queued: true, queue: context.queueName }, ...seen };
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
      return unavailable("unavailable", "cannot queue the delivery now; retry later", {
        ...seen,
        reason: taken.reason,
      });
  }
}
