/**
 * Which GitHub events phase one queues. One row per event; an event without a
 * row, or whose row does not accept the payload, is answered 200 and dropped.
 */

export type Payload = Readonly<Record<string, unknown>>;

export interface FilterRule {
  readonly event: string;
  /** What the rule accepts, in words; part of the reason given for ignored deliveries. */
  readonly accepts: string;
  readonly matches: (payload: Payload) => boolean;
}

function actionIn(...actions: string[]): (payload: Payload) => boolean {
  return (payload) => typeof payload.action === "string" && actions.includes(payload.action);
}

function isObject(value: unknown): value is Payload {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const filterRules: readonly FilterRule[] = [
  {
    event: "pull_request",
    accepts: "action opened, synchronize or reopened",
    matches: actionIn("opened", "synchronize", "reopened"),
  },
  {
    event: "status",
    accepts: 'state pending with a description ending in "(direct trigger)"',
    matches: (p) =>
      p.state === "pending" &&
      typeof p.description === "string" &&
      p.description.endsWith("(direct trigger)"),
  },
  {
    event: "issue_comment",
    accepts: "action created on a pull request",
    matches: (p) => p.action === "created" && isObject(p.issue) && isObject(p.issue.pull_request),
  },
  {
    event: "check_run",
    accepts: "action rerequested",
    matches: actionIn("rerequested"),
  },
];

export type FilterDecision =
  | { readonly kind: "queue" }
  | { readonly kind: "ping" }
  | { readonly kind: "ignore"; readonly reason: string };

export function decide(
  event: string,
  payload: Payload,
  rules: readonly FilterRule[] = filterRules,
): FilterDecision {
  if (event === "ping") return { kind: "ping" };
  const rule = rules.find((r) => r.event === event);
  if (rule === undefined) return { kind: "ignore", reason: `event ${event} is not queued` };
  if (rule.matches(payload)) return { kind: "queue" };
  const action = typeof payload.action === "string" ? ` action ${payload.action}` : "";
  return { kind: "ignore", reason: `${event}${action} is not queued (queued: ${rule.accepts})` };
}
