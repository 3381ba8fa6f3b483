/**
 * Label values are series: each new value costs memory in this process and in
 * Prometheus for good. Values that come from outside (a context name, a
 * worker name) go through a LabelValues, which keeps the first `max` distinct
 * values it sees and counts every later one as `other`.
 */

export const OTHER = "other";

/** Longer values are never used as they are: they are not names a person gave. */
const MAX_VALUE_LENGTH = 128;

export class LabelValues {
  private readonly seen = new Set<string>();

  constructor(
    private readonly max: number,
    fixed: readonly string[] = [],
  ) {
    for (const value of fixed) this.seen.add(value);
  }

  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max || value.length > MAX_VALUE_LENGTH) return OTHER;
    this.seen.add(value);
    return value;
  }
}

/** GitHub events hangar acts on; any other verified event counts as `other`. */
export const WEBHOOK_EVENTS = ["pull_request", "status", "issue_comment", "check_run", "ping"] as const;

/** The event label of a request whose signature did not pass (or was never checked): its header says nothing. */
export const UNVERIFIED = "unverified";

const knownEvents: ReadonlySet<string> = new Set(WEBHOOK_EVENTS);

/** `event` is the X-GitHub-Event of a verified delivery; undefined before (or without) verification. */
export function webhookEventLabel(event: string | undefined): string {
  if (event === undefined) return UNVERIFIED;
  return knownEvents.has(event) ? event : OTHER;
}

/** Every way a webhook request ends; the `outcome` label takes only these. */
export const WEBHOOK_OUTCOMES = [
  "queued",
  "spooled",
  "duplicate",
  "ignored",
  "ping",
  "unauthorized",
  "bad_request",
  "too_large",
  "over_budget",
  "aborted",
  "body_timeout",
  "too_slow",
  "unavailable",
  "internal_error",
  "health",
  "not_found",
  "method_not_allowed",
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/** Outcomes decided before a signature passed: their series exist from the start, at zero. */
export const UNVERIFIED_OUTCOMES: readonly WebhookOutcome[] = [
  "unauthorized",
  "bad_request",
  "too_large",
  "over_budget",
  "aborted",
  "body_timeout",
  "too_slow",
  "not_found",
  "method_not_allowed",
];
