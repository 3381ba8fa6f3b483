/**
 * The hook deliveries API: a repository's (or an organization's) webhook
 * lists its recent delivery attempts, and a failed one can be sent again.
 * The emulator has one webhook; its id is HOOK_ID, whatever repository asks.
 */
import { HttpError, notFound, paginate, type RequestContext, type Route, route } from "./http.js";
import { stableId } from "./payloads.js";
import type { EmulatorState, StoredDelivery } from "./state.js";
import { EmulatorError } from "./types.js";

export const HOOK_ID = stableId("hook", "emulator");

function statusText(delivery: StoredDelivery["delivery"]): string {
  if (delivery.status === null)
    return delivery.error === "TimeoutError"
      ? "timed out"
      : `failed to connect: ${delivery.error ?? "unknown"}`;
  if (delivery.status >= 200 && delivery.status < 300) return "OK";
  return `Invalid HTTP Response: ${delivery.status}`;
}

function deliveryJson(stored: StoredDelivery): Record<string, unknown> {
  const { delivery } = stored;
  return {
    id: delivery.attempt,
    guid: delivery.id,
    delivered_at: delivery.time.replace(/\.\d{3}Z$/, "Z"),
    redelivery: delivery.redelivery === true,
    duration: delivery.durationMs / 1000,
    status: statusText(delivery),
    status_code: delivery.status ?? 0,
    event: delivery.event,
    action: delivery.action,
    installation_id: null,
    repository_id: stored.repo === null ? null : stableId("repo", stored.repo),
    throttled_at: null,
  };
}

export function hookRoutes(state: EmulatorState): Route[] {
  /** The attempts a hook sees: its repository's, or all of an organization's repositories'. */
  const scoped = (context: RequestContext, kind: "repo" | "org"): StoredDelivery[] => {
    const [first = "", second = ""] = context.params;
    const id = Number(kind === "repo" ? context.params[2] : second);
    if (id !== HOOK_ID) throw notFound();
    if (kind === "repo" && !state.repos.has(`${first}/${second}`)) throw notFound();
    const belongs = (stored: StoredDelivery): boolean =>
      kind === "repo" ? stored.repo === `${first}/${second}` : stored.repo?.startsWith(`${first}/`) === true;
    return state.hookDeliveries.filter(belongs).reverse();
  };
  const list = (kind: "repo" | "org") => (context: RequestContext) => {
    const { items, headers } = paginate(context.url, scoped(context, kind));
    return { status: 200, body: items.map(deliveryJson), headers };
  };
  const one = (kind: "repo" | "org", index: number) => (context: RequestContext) => {
    const attempt = Number(context.params[index]);
    const found = scoped(context, kind).find((stored) => stored.delivery.attempt === attempt);
    if (found === undefined) throw notFound();
    return found;
  };
  const redeliver = (kind: "repo" | "org", index: number) => (context: RequestContext) => {
    const found = one(kind, index)(context);
    try {
      state.startRedelivery(found.delivery.attempt ?? 0);
    } catch (error) {
      if (error instanceof EmulatorError) throw new HttpError(error.status, error.message);
      throw error;
    }
    return { status: 202, body: {} };
  };
  const REPO_HOOK = "^/repos/([^/]+)/([^/]+)/hooks/(\\d+)/deliveries";
  const ORG_HOOK = "^/orgs/([^/]+)/hooks/(\\d+)/deliveries";
  return [
    route("GET", new RegExp(`${REPO_HOOK}$`), list("repo")),
    route("GET", new RegExp(`${REPO_HOOK}/(\\d+)$`), (context) => ({
      status: 200,
      body: deliveryJson(one("repo", 3)(context)),
    })),
    route("POST", new RegExp(`${REPO_HOOK}/(\\d+)/attempts$`), redeliver("repo", 3)),
    route("GET", new RegExp(`${ORG_HOOK}$`), list("org")),
    route("GET", new RegExp(`${ORG_HOOK}/(\\d+)$`), (context) => ({
      status: 200,
      body: deliveryJson(one("org", 2)(context)),
    })),
    route("POST", new RegExp(`${ORG_HOOK}/(\\d+)/attempts$`), redeliver("org", 2)),
  ];
}
