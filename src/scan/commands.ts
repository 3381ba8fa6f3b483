/**
 * PR comment commands: `/hangar test CONTEXT...`, `/hangar retest`, `/hangar approve`.
 * Only trusted users may give them; everyone else, and every mistake, gets a short reply.
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
import { isTrustedAuthor } from "./trust.js";

export type PullCommand =
  | { readonly kind: "test"; readonly contexts: readonly string[] }
  | { readonly kind: "retest" }
  | { readonly kind: "approve" }
  | { readonly kind: "unknown"; readonly text: string };

const PREFIX = "/hangar";
export const COMMAND_HELP = "`/hangar test CONTEXT...`, `/hangar retest`, `/hangar approve`";

/** The first `/hangar ...` line of a comment, or null when the comment holds none. */
export function parseCommand(body: string): PullCommand | null {
  for (const raw of body.split(/\r?\n/)) {
    const words = raw.trim().split(/\s+/);
    if (words[0] !== PREFIX) continue;
    const [verb = "", ...args] = words.slice(1);
    if (verb === "test" && args.length > 0) return { kind: "test", contexts: args };
    if (verb === "retest" && args.length === 0) return { kind: "retest" };
    if (verb === "approve" && args.length === 0) return { kind: "approve" };
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
  const authorTrusted = await isTrustedAuthor(deps.config, deps.forge, pull.author);
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

/**
 * The contexts `hangar trigger` sets to pending "Not yet tested (direct trigger)" on a PR's head;
 * GitHub's `status` event for each then queues the job. `_manual` contexts may be named.
 */
export async function planDirectTrigger(
  deps: Pick<PlanDeps, "config" | "forge" | "logger">,
  request: TriggerRequest,
): Promise<{ readonly sha: string; readonly contexts: readonly string[] }> {
  if (!isKnownProject(deps.config, request.repo))
    throw new TriggerError(`${request.repo} is not a project in the configuration`);
  const pull = await deps.forge.getPull(request.repo, request.pull);
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
  return { sha: pull.headSha, contexts: [...contexts] };
}
