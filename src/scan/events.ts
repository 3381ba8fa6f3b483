/** Reading a webhook envelope into what scan should do with it. Fields are checked where they enter. */
import type { WebhookEnvelope } from "../queue/messages.js";
import type { Subject } from "./jobs.js";

export const TESTED_PULL_ACTIONS = new Set(["opened", "synchronize", "reopened"]);
export const DIRECT_TRIGGER_SUFFIX = "(direct trigger)";

export type ScanRequest =
  | {
      readonly kind: "pull";
      readonly subject: Subject;
      readonly author: string;
      readonly labels: readonly string[];
    }
  | { readonly kind: "trigger"; readonly repo: string; readonly sha: string; readonly context: string }
  | { readonly kind: "ignore"; readonly reason: string };

export class BadEventError extends Error {
  override readonly name = "BadEventError";
}

type Json = Record<string, unknown>;

function object(value: unknown, path: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadEventError(`${path}: expected an object`);
  }
  return value as Json;
}

function string(value: unknown, path: string): string {
  if (typeof value !== "string" || value === "")
    throw new BadEventError(`${path}: expected a non-empty string`);
  return value;
}

function number(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value))
    throw new BadEventError(`${path}: expected an integer`);
  return value;
}

function labelNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((label) =>
    typeof label === "object" && label !== null && typeof (label as Json).name === "string"
      ? [(label as Json).name as string]
      : [],
  );
}

function readPullRequest(request: Json): ScanRequest {
  const action = string(request.action, "request.action");
  if (!TESTED_PULL_ACTIONS.has(action)) return { kind: "ignore", reason: `pull_request action ${action}` };
  const pull = object(request.pull_request, "request.pull_request");
  const head = object(pull.head, "request.pull_request.head");
  const base = object(pull.base, "request.pull_request.base");
  const repository = object(request.repository, "request.repository");
  const subject: Subject = {
    repo: string(repository.full_name, "request.repository.full_name"),
    sha: string(head.sha, "request.pull_request.head.sha"),
    pull: number(pull.number ?? request.number, "request.pull_request.number"),
    baseBranch: string(base.ref, "request.pull_request.base.ref"),
    title: typeof pull.title === "string" ? pull.title : "",
  };
  const user = object(pull.user, "request.pull_request.user");
  return {
    kind: "pull",
    subject,
    author: string(user.login, "request.pull_request.user.login"),
    labels: labelNames(pull.labels),
  };
}

function readStatus(request: Json): ScanRequest {
  const description = typeof request.description === "string" ? request.description : "";
  if (request.state !== "pending" || !description.endsWith(DIRECT_TRIGGER_SUFFIX)) {
    return { kind: "ignore", reason: "status event that is not a pending direct trigger" };
  }
  const repository = object(request.repository, "request.repository");
  return {
    kind: "trigger",
    repo: string(repository.full_name, "request.repository.full_name"),
    sha: string(request.sha, "request.sha"),
    context: string(request.context, "request.context"),
  };
}

export function readEnvelope(envelope: WebhookEnvelope): ScanRequest {
  switch (envelope.event) {
    case "pull_request":
      return readPullRequest(envelope.request);
    case "status":
      return readStatus(envelope.request);
    default:
      return { kind: "ignore", reason: `event ${envelope.event} is not handled by scan` };
  }
}
