/**
 * PR comment commands: `/hangar test CONTEXT...`, `/hangar retest`, `/hangar approve [SHA]`.
 * Only trusted users may give them; everyone else, and every mistake, gets a short reply.
 * On a PR whose code is not trusted, a command is an approval of the head it was written
 * about, and of no later push (see approvalRefusal).
 */
import type { PullRequest } from "../forge/types.js";
import type { ScanRequest } from "./events.js";
import type { Subject } from "./jobs.js";
import {
  alreadyHandled,
  existingStatuses,
  ignore,
  type PlanDeps,
  queueAction,
  type ScanAction,
  type ScanPlan,
  taskFor,
} from "./plan.js";
import { automaticContexts, type ContextSpec, findContext, isKnownProject } from "./testmap.js";
import { isTrustedAuthor, isTrustedPull } from "./trust.js";

export type PullCommand =
  | { readonly kind: "test"; readonly contexts: readonly string[] }
  | { readonly kind: "retest" }
  /** With `sha`: approve only a head whose sha starts with it. */
  | { readonly kind: "approve"; readonly sha?: string }
  | { readonly kind: "unknown"; readonly text: string };

const PREFIX = "/hangar";
export const COMMAND_HELP = "`/hangar test CONTEXT...`, `/hangar retest`, `/hangar approve [SHA]`";
const SHA_PREFIX = /^[0-9a-f]{7,40}$/i;

/** The first `/hangar ...` line of a comment, or null when the comment holds none. */
export function parseCommand(body: string): PullCommand | null {
  for (const raw of body.split(/\r?\n/)) {
    const words = raw.trim().split(/\s+/);
    if (words[0] !== PREFIX) continue;
    const [verb = "", ...args] = words.slice(1);
    if (verb === "test" && args.length > 0) return { kind: "test", contexts: args };
    if (verb === "retest" && args.length === 0) return { kind: "retest" };
    if (verb === "approve" && args.length === 0) return { kind: "approve" };
    const [sha = ""] = args;
    if (verb === "approve" && args.length === 1 && SHA_PREFIX.test(sha))
      return { kind: "approve", sha: sha.toLowerCase() };
    return { kind: "unknown", text: raw.trim() };
  }
  return null;
}

type CommentRequest = Extract<ScanRequest, { kind: "comment" }>;

interface CommandContext {
  readonly deps: PlanDeps;
  readonly request: CommentRequest;
  readonly pull: PullRequest;
  readonly subject: Subject;
  /** The PR author's trust: jobs of an untrusted author's PR carry no secrets. */
  readonly authorTrusted: boolean;
}

function reply(context: Pick<CommandContext, "subject" | "pull">, body: string): ScanPlan {
  const action: ScanAction = { kind: "comment", issue: context.pull.number, body };
  return { subject: context.subject, actions: [action], skipped: [] };
}

function queueAll(context: CommandContext, specs: readonly ContextSpec[]): ScanPlan {
  const { deps, subject, authorTrusted } = context;
  const actions = specs.map((spec) =>
    queueAction(spec, taskFor(subject, spec, authorTrusted, deps.now), true),
  );
  return { subject, actions, skipped: [] };
}

function planTest(context: CommandContext, names: readonly string[]): ScanPlan {
  const { deps, pull, request } = context;
  const found = names.map((name) => ({
    name,
    spec: findContext(deps.config, pull.repo, pull.baseRef, name),
  }));
  const unknown = found.filter((entry) => entry.spec === undefined).map((entry) => `\`${entry.name}\``);
  if (unknown.length > 0) {
    return reply(
      context,
      `@${request.commenter}: ${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not in the test map of ${pull.repo} for branch ${pull.baseRef}; nothing was started.`,
    );
  }
  const specs = found.flatMap((entry) => (entry.spec ? [entry.spec] : []));
  return queueAll(context, [...new Map(specs.map((spec) => [spec.name, spec])).values()]);
}

async function planRetest(context: CommandContext): Promise<ScanPlan> {
  const { deps, pull, request, subject } = context;
  const statuses = await existingStatuses(deps, subject);
  const failed = [...statuses.values()].filter((s) => s.state === "failure" || s.state === "error");
  const specs: ContextSpec[] = [];
  const skipped: { context: string; reason: string }[] = [];
  for (const status of failed) {
    const spec = findContext(deps.config, pull.repo, pull.baseRef, status.context);
    if (spec) specs.push(spec);
    else skipped.push({ context: status.context, reason: "not in the test map" });
  }
  if (specs.length === 0) {
    return reply(
      context,
      `@${request.commenter}: no failed contexts to retest on ${pull.headSha.slice(0, 8)}.`,
    );
  }
  return { ...queueAll(context, specs), skipped };
}

async function planApprove(context: CommandContext): Promise<ScanPlan> {
  const { deps, pull, request, subject } = context;
  const statuses = await existingStatuses(deps, subject);
  const specs: ContextSpec[] = [];
  const skipped: { context: string; reason: string }[] = [];
  for (const spec of automaticContexts(deps.config, pull.repo, pull.baseRef)) {
    const handled = alreadyHandled(statuses.get(spec.name));
    if (handled) skipped.push({ context: spec.name, reason: handled });
    else specs.push(spec);
  }
  if (specs.length === 0) {
    return reply(context, `@${request.commenter}: nothing left to run on ${pull.headSha.slice(0, 8)}.`);
  }
  return { ...queueAll(context, specs), skipped };
}

/**
 * Why a command on a PR with untrusted code does not cover the PR's current head, or null when
 * it does. The command approves the head its writer looked at; GitHub's comment event does not
 * say which that was, so hangar goes by GitHub's own clock: the head is covered only when it
 * already carried a hangar status (for one of the PR's contexts, e.g. "Manual testing required")
 * created at or before the comment. A head pushed after the comment, or so shortly before it
 * that hangar had not yet marked it, is not covered: nothing runs and the reply asks for a new
 * approval. This needs no state of hangar's own, and a late or repeated delivery of the comment
 * decides the same way. What it cannot see is a force-push, after the comment, back to an older
 * head hangar had already marked, in the moments before the comment's scan; `/hangar approve SHA`
 * names the approved head exactly and is covered by nothing else.
 */
async function approvalRefusal(
  deps: PlanDeps,
  request: CommentRequest,
  pull: PullRequest,
  command: Exclude<PullCommand, { kind: "unknown" }>,
): Promise<string | null> {
  const head = pull.headSha.slice(0, 8);
  const who = `@${request.commenter}`;
  if (command.kind === "approve" && command.sha !== undefined) {
    if (pull.headSha.startsWith(command.sha)) return null;
    return `${who}: the head of this pull request is ${head}, not ${command.sha}; nothing was started. Review ${head} and approve it with \`/hangar approve ${head}\`.`;
  }
  const again = `${who}: ${head} became the head of this pull request after your comment (or too close to it), so your comment does not approve it; nothing was started. Review it and comment \`/hangar approve ${head}\` (or your command again).`;
  const commentTime = Date.parse(request.createdAt ?? "");
  if (Number.isNaN(commentTime)) return again;
  // Errors propagate: the comment is scanned again later rather than decided on no data.
  const statuses = await deps.forge.getStatuses(pull.repo, pull.headSha);
  const markedBefore = [...statuses.values()].some((status) => {
    if (!findContext(deps.config, pull.repo, pull.baseRef, status.context)) return false;
    const created = Date.parse(status.created_at ?? "");
    return !Number.isNaN(created) && created <= commentTime;
  });
  return markedBefore ? null : again;
}

export async function planComment(deps: PlanDeps, request: CommentRequest): Promise<ScanPlan> {
  const command = parseCommand(request.body);
  if (command === null) return ignore("comment without a /hangar command");
  if (!isKnownProject(deps.config, request.repo))
    return ignore(`repository ${request.repo} is not in the test map`);
  const pull = await deps.forge.getPull(request.repo, request.pull);
  const subject: Subject = {
    repo: pull.repo,
    sha: pull.headSha,
    pull: pull.number,
    baseBranch: pull.baseRef,
    title: pull.title,
  };
  const where = { subject, pull };
  if (!(await isTrustedAuthor(deps.config, deps.forge, request.commenter))) {
    return reply(
      where,
      `@${request.commenter}: only trusted users can give hangar commands; nothing was started.`,
    );
  }
  if (command.kind === "unknown") {
    return reply(
      where,
      `@${request.commenter}: unknown command \`${command.text}\`; hangar knows ${COMMAND_HELP}.`,
    );
  }
  if (pull.state === "closed") return reply(where, `@${request.commenter}: this pull request is closed.`);
  const authorTrusted = await isTrustedPull(deps.config, deps.forge, pull);
  if (!authorTrusted) {
    const refusal = await approvalRefusal(deps, request, pull, command);
    if (refusal !== null) return reply(where, refusal);
  }
  const context: CommandContext = { deps, request, pull, subject, authorTrusted };
  switch (command.kind) {
    case "test":
      return planTest(context, command.contexts);
    case "retest":
      return planRetest(context);
    case "approve":
      return planApprove(context);
  }
}

/** What `hangar trigger` refuses: an unknown project, pull or context, or nothing to trigger. */
export class TriggerError extends Error {
  override readonly name = "TriggerError";
}

// A literal: plan.ts imports this module, so its constants are not initialized yet at load time.
export const DIRECT_TRIGGER_DESCRIPTION = "Not yet tested (direct trigger)";

export interface TriggerRequest {
  readonly repo: string;
  readonly pull: number;
  readonly contexts: readonly string[];
  /** Also every context whose latest status on the head is a failure or an error. */
  readonly allFailed: boolean;
}

export interface DirectTrigger {
  readonly sha: string;
  readonly contexts: readonly string[];
  /** The status's target_url: the PR's page, which names the PR to scan (see pullOfTriggerUrl). */
  readonly targetUrl: string;
}

/**
 * The contexts `hangar trigger` sets to pending "Not yet tested (direct trigger)" on a PR's head;
 * GitHub's `status` event for each then queues the job. `_manual` contexts may be named.
 */
export async function planDirectTrigger(
  deps: Pick<PlanDeps, "config" | "forge" | "logger">,
  request: TriggerRequest,
): Promise<DirectTrigger> {
  if (!isKnownProject(deps.config, request.repo))
    throw new TriggerError(`${request.repo} is not a project in the configuration`);
  const pull = await deps.forge.getPull(request.repo, request.pull);
  if (pull.state === "closed") throw new TriggerError(`${pull.repo}#${pull.number} is closed`);
  const unknown = request.contexts.filter((name) => !findContext(deps.config, pull.repo, pull.baseRef, name));
  if (unknown.length > 0) {
    throw new TriggerError(
      `not in the test map of ${pull.repo} for branch ${pull.baseRef}: ${unknown.join(", ")}`,
    );
  }
  const contexts = new Set(request.contexts);
  if (request.allFailed) {
    const statuses = await existingStatuses(deps, { repo: pull.repo, sha: pull.headSha });
    for (const status of statuses.values()) {
      const failed = status.state === "failure" || status.state === "error";
      if (failed && findContext(deps.config, pull.repo, pull.baseRef, status.context))
        contexts.add(status.context);
    }
  }
  if (contexts.size === 0) {
    throw new TriggerError(
      request.allFailed ? `no failed contexts on ${pull.repo}#${pull.number}` : "name at least one context",
    );
  }
  return { sha: pull.headSha, contexts: [...contexts], targetUrl: pull.htmlUrl };
}
