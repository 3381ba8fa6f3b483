/** What the webhook answers a request with, and how it is logged and counted. */
import type { WebhookOutcome } from "../metrics/labels.js";

export interface Result {
  readonly status: number;
  readonly outcome: WebhookOutcome;
  readonly body: Readonly<Record<string, unknown>>;
  /** The X-GitHub-Event of a delivery whose signature passed (or that insecure mode took unsigned). */
  readonly event?: string;
  readonly action?: string;
  readonly reason?: string;
  /** Answer, then drop the connection: the rest of the request is not read. */
  readonly closeConnection?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

export function rejected(
  status: number,
  outcome: WebhookOutcome,
  error: string,
  extra: Partial<Result> = {},
): Result {
  return { status, outcome, body: { error }, reason: error, ...extra };
}

/** Seconds a refused sender should wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/** 503 with Retry-After: refused for now, not for good. */
export function unavailable(outcome: WebhookOutcome, error: string, extra: Partial<Result> = {}): Result {
  return rejected(503, outcome, error, {
    ...extra,
    headers: { ...extra.headers, "retry-after": String(RETRY_AFTER_SECONDS) },
  });
}
