/** Reading a webhook envelope into what scan should do with it. Fields are checked where they enter. */

import type { PullRequest } from "../forge/types.js";
import type { WebhookEnvelope } from "../queue/messages.js";
import type { Subject } from "./jobs.js";

export const TESTED_PULL_ACTIONS = new Set(["opened", "synchronize", "reopened"]);
export const DIRECT_TRIGGER_SUFFIX = "(direct trigger)";

export type ScanRequest =
  | {
      readonly kind: "pull";
      readonly subject: Subject;
      readonly author: string;
      /** Owner of the repository the head branch lives in (a fork's owner); null when it is gone. */
      readonly headOwner: string | null;
      readonly labels: readonly string[];
    }
  /** A pending direct-trigger status: run that context on that commit. */
  | {
      readonly kind: "trigger";
      readonly repo: string;
      readonly sha: string;
      readonly context: string;
      /** The PR the trigger names in its target_url (`hangar trigger` puts the PR's page there). */
      readonly pulls: readonly number[];
    }
  /** A comment on a PR; commands.ts reads `/hangar ...` lines out of it. */
  | {
      readonly kind: "comment";
      readonly repo: string;
      readonly pull: number;
      readonly commenter: string;
      readonly body: string;
      /** GitHub's time of the comment; null when the payload lacks it. */
      readonly createdAt: string | null;
    }
  /** GitHub's "Re-run" on a check run: run that context again on that commit. */
  | {
      readonly kind: "rerun";
      readonly repo: string;
      readonly sha: string;
      readonly context: string;
      /** The PRs GitHub lists on the check run (open PRs with that head; never a fork's). */
      readonly pulls: readonly number[];
    }
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
    headOwner: headOwnerOf(head),
    labels: labelNames(pull.labels),
  };
}

/** head.repo.owner.login; GitHub sends head.repo null when the fork was deleted. */
function headOwnerOf(head: Json): string | null {
  const repo = head.repo;
  if (typeof repo !== "object" || repo === null) return null;
  const owner = (repo as Json).owner;
  if (typeof owner !== "object" || owner === null) return null;
  const login = (owner as Json).login;
  return typeof login === "string" && login !== "" ? login : null;
}

/**
 * The PR a direct trigger names: its target_url is the PR's page, `.../<owner>/<name>/pull/<n>`
 * of the status's own repository. Anything else names no PR.
 */
export function pullOfTriggerUrl(repo: string, targetUrl: unknown): number | null {
  if (typeof targetUrl !== "string" || !URL.canParse(targetUrl)) return null;
  const match = /\/([^/]+\/[^/]+)\/pull\/([1-9]\d{0,9})\/?$/.exec(new URL(targetUrl).pathname);
  if (!match?.[1] || !match[2] || match[1].toLowerCase() !== repo.toLowerCase()) return null;
  return Number(match[2]);
}

/** The numbers of check_run.pull_requests. */
function checkRunPulls(run: Json): number[] {
  if (!Array.isArray(run.pull_requests)) return [];
  return run.pull_requests.flatMap((pull: unknown) => {
    const number = typeof pull === "object" && pull !== null ? (pull as Json).number : undefined;
    return typeof number === "number" && Number.isInteger(number) && number > 0 ? [number] : [];
  });
}

function readStatus(request: Json): ScanRequest {
  const description = typeof request.description === "string" ? request.description : "";
  if (request.state !== "pending" || !description.endsWith(DIRECT_TRIGGER_SUFFIX)) {
    return { kind: "ignore", reason: "status event that is not a pending direct trigger" };
  }
  const repository = object(request.repository, "request.repository");
  const repo = string(repository.full_name, "request.repository.full_name");
  const pull = pullOfTriggerUrl(repo, request.target_url);
  return {
    kind: "trigger",
    repo,
    sha: string(request.sha, "request.sha"),
    context: string(request.context, "request.context"),
    pulls: pull === null ? [] : [pull],
  };
}

function readIssueComment(request: Json): ScanRequest {
  if (request.action !== "created") return { kind: "ignore", reason: "issue_comment that is not new" };
  const issue = object(request.issue, "request.issue");
  if (typeof issue.pull_request !== "object" || issue.pull_request === null) {
    return { kind: "ignore", reason: "comment on an issue, not on a pull request" };
  }
  const comment = object(request.comment, "request.comment");
  const repository = object(request.repository, "request.repository");
  const user = object(comment.user, "request.comment.user");
  return {
    kind: "comment",
    repo: string(repository.full_name, "request.repository.full_name"),
    pull: number(issue.number, "request.issue.number"),
    commenter: string(user.login, "request.comment.user.login"),
    body: typeof comment.body === "string" ? comment.body : "",
    createdAt: typeof comment.created_at === "string" ? comment.created_at : null,
  };
}

function readCheckRun(request: Json): ScanRequest {
  if (request.action !== "rerequested") return { kind: "ignore", reason: "check_run that is not a re-run" };
  const run = object(request.check_run, "request.check_run");
  const repository = object(request.repository, "request.repository");
  // hangar puts the context into external_id; the name is the same unless someone renamed the run.
  const context = typeof run.external_id === "string" && run.external_id !== "" ? run.external_id : run.name;
  return {
    kind: "rerun",
    repo: string(repository.full_name, "request.repository.full_name"),
    sha: string(run.head_sha, "request.check_run.head_sha"),
    context: string(context, "request.check_run.name"),
    pulls: checkRunPulls(run),
  };
}

export function readEnvelope(envelope: WebhookEnvelope): ScanRequest {
  switch (envelope.event) {
    case "pull_request":
      return readPullRequest(envelope.request);
    case "status":
      return readStatus(envelope.request);
    case "issue_comment":
      return readIssueComment(envelope.request);
    case "check_run":
      return readCheckRun(envelope.request);
    default:
      return { kind: "ignore", reason: `event ${envelope.event} is not handled by scan` };
  }
}

/** The scan request for a pull request as the forge reports it now (reconciliation, `hangar scan`). */
export function pullRequestScan(pull: PullRequest): Extract<ScanRequest, { kind: "pull" }> {
  return {
    kind: "pull",
    subject: {
      repo: pull.repo,
      sha: pull.headSha,
      pull: pull.number,
      baseBranch: pull.baseRef,
      title: pull.title,
    },
    author: pull.author,
    headOwner: pull.headOwner,
    labels: pull.labels,
  };
}
