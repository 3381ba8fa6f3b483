/** Signed webhook deliveries, with the headers GitHub sends. */
import { createHmac, randomUUID } from "node:crypto";
import { sign } from "@octokit/webhooks-methods";
import { stableId } from "./payloads.js";

export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

export interface WebhookRequest {
  readonly id: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** What became of one delivery. `status` is null when no HTTP answer came (see `error`). */
export interface WebhookDelivery {
  /** The X-GitHub-Delivery GUID; a redelivery keeps it. */
  readonly id: string;
  /** The number of this attempt in the hook's deliveries API (GitHub's `id`). */
  readonly attempt?: number;
  /** True for an attempt made through the redelivery API. */
  readonly redelivery?: boolean;
  readonly event: string;
  readonly action: string | null;
  readonly status: number | null;
  readonly error?: string;
  readonly bytes: number;
  readonly time: string;
  readonly durationMs: number;
}

/** GitHub gives up on a receiver after ten seconds. */
const DELIVERY_TIMEOUT_MS = 10_000;

/** The body and headers of a signed delivery, as GitHub would POST them. */
export async function webhookRequest(
  event: string,
  payload: unknown,
  secret: string,
  id: string = randomUUID(),
): Promise<WebhookRequest> {
  const body = JSON.stringify(payload);
  const repository = (payload as { repository?: { full_name?: unknown } } | null)?.repository?.full_name;
  return {
    id,
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/hangar-emulator",
      "x-github-event": event,
      "x-github-delivery": id,
      "x-github-hook-id": String(stableId("hook", "emulator")),
      "x-github-hook-installation-target-type": "repository",
      "x-github-hook-installation-target-id": String(stableId("repo", String(repository ?? ""))),
      "x-hub-signature": `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`,
      "x-hub-signature-256": await sign(secret, body),
    },
  };
}

export async function deliverWebhook(
  target: WebhookTarget,
  event: string,
  payload: unknown,
  id?: string,
): Promise<WebhookDelivery> {
  const request = await webhookRequest(event, payload, target.secret, id);
  const action = (payload as { action?: unknown } | null)?.action;
  const started = Date.now();
  const base = {
    id: request.id,
    event,
    action: typeof action === "string" ? action : null,
    bytes: Buffer.byteLength(request.body),
    time: new Date(started).toISOString(),
  };
  try {
    const response = await fetch(target.url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return { ...base, status: response.status, durationMs: Date.now() - started };
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    const message = error instanceof Error ? error.message : String(error);
    return {
      ...base,
      status: null,
      error: typeof cause === "string" ? cause : message,
      durationMs: Date.now() - started,
    };
  }
}
