/**
 * Deciding what an event means for the test map and the trust policy, without
 * side effects: the scanner applies a plan, `hangar scan --dry` prints it.
 */
import type { HangarConfig } from "../config/index.js";
import type { CommitStatus, Forge } from "../forge/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { planComment } from "./commands.js";
import { withCommandSubject } from "./crossproject.js";
import type { ScanRequest } from "./events.js";
import { makeTask, type Subject, type TaskMessage } from "./jobs.js";
import { automaticContexts, type ContextSpec, findContext, hasContext, isKnownProject } from "./testmap.js";
import { decideCommitTrust, isTrustedPull } from "./trust.js";

export const NOT_YET_TESTED = "Not yet tested";
export const MANUAL_TESTING_REQUIRED = "Manual testing required";
export const IN_PROGRESS = "In progress";

export type ScanAction =
  /** Post a pending status and queue nothing. */
  | { readonly kind: "status"; readonly context: string; readonly description: string }
  /** Queue a job; post pending `Not yet tested` first unless the trigger already did. */
  | {
      readonly kind: "queue";
      readonly context: string;
      readonly queue: string;
      readonly priority: number;
      readonly task: TaskMessage;
      readonly postPending: boolean;
    }
  /** Answer on the PR (or issue) with a comment: refusals and explanations of comment commands. */
  | { readonly kind: "comment"; readonly issue: number; readonly body: string };

export interface ScanPlan {
  readonly subject?: Subject;
  readonly actions: readonly ScanAction[];
  /** Contexts left alone, with why. */
  readonly skipped: readonly { readonly context: string; readonly reason: string }[];
  /** Why the whole event leads to nothing, when it does. */
  readonly ignored?: string;
}

export interface PlanDeps {
  readonly config: HangarConfig;
  readonly forge: Forge;
  readonly logger: Logger;
  readonly now?: Date;
}

export function ignore(reason: string): ScanPlan {
  return { actions: [], skipped: [], ignored: reason };
}

/**
 * The task for a context: cross-project contexts get their command subject; jobs for untrusted
 * code (an untrusted author's PR after a maintainer's approval) carry no secrets.
 */
export function taskFor(
  subject: Subject,
  spec: ContextSpec,
  trusted: boolean,
  now?: Date,
  why = "untrusted author",
): TaskMessage {
  const task = withCommandSubject(makeTask(subject, spec, now));
  if (trusted) return task;
  return {
    job: { ...task.job, secrets: [], trusted: false },
    human: `${task.human} (${why}, no secrets)`,
  };
}

export function queueAction(spec: ContextSpec, task: TaskMessage, postPending: boolean): ScanAction {
  return { kind: "queue", context: spec.name, queue: spec.queue, priority: spec.priority, task, postPending };
}

/** Statuses already on the commit; a forge that cannot tell is treated as "none yet". */
export async function existingStatuses(
  deps: Pick<PlanDeps, "forge" | "logger">,
  subject: Pick<Subject, "repo" | "sha">,
): Promise<Map<string, CommitStatus>> {
  try {
    return await deps.forge.getStatuses(subject.repo, subject.sha);
  } catch (error) {
    deps.logger.warn(
      { repo: subject.repo, sha: subject.sha, err: errorMessage(error) },
      "cannot read statuses",
    );
    return new Map();
  }
}

export function alreadyHandled(status: CommitStatus | undefined): string | undefined {
  if (!status) return undefined;
  if (status.state === "success" || status.state === "failure") return `already ${status.state}`;
  if (status.description?.startsWith(IN_PROGRESS)) return "in progress";
  return undefined;
}

async function planPull(deps: PlanDeps, request: Extract<ScanRequest, { kind: "pull" }>): Promise<ScanPlan> {
  const { config } = deps;
  const { subject } = request;
  if (!isKnownProject(config, subject.repo))
    return ignore(`repository ${subject.repo} is not in the test map`);
  if (subject.title.includes("[no-test]") || request.labels.includes("no-test")) {
    return ignore(`pull #${subject.pull} is marked no-test`);
  }
  const contexts = automaticContexts(config, subject.repo, subject.baseBranch ?? "");
  if (contexts.length === 0) return ignore(`no contexts for branch ${subject.baseBranch} of ${subject.repo}`);

  const trusted = await isTrustedPull(config, deps.forge, {
    repo: subject.repo,
    author: request.author,
    headOwner: request.headOwner,
  });
  const statuses = await existingStatuses(deps, subject);
  const actions: ScanAction[] = [];
  const skipped: { context: string; reason: string }[] = [];
  for (const spec of contexts) {
    const existing = statuses.get(spec.name);
    const handled = alreadyHandled(existing);
    if (handled) {
      skipped.push({ context: spec.name, reason: handled });
    } else if (!trusted) {
      if (existing?.description === MANUAL_TESTING_REQUIRED) {
        skipped.push({ context: spec.name, reason: "already waiting for manual testing" });
      } else {
        actions.push({ kind: "status", context: spec.name, description: MANUAL_TESTING_REQUIRED });
      }
    } else {
      actions.push(queueAction(spec, taskFor(subject, spec, true, deps.now), true));
    }
  }
  return { subject, actions, skipped };
}

/**
 * A direct trigger (a pending status) or a check run's Re-run: one context on one commit. It runs
 * trusted only when decideCommitTrust says so; whoever can post a status or press Re-run has
 * write access, but what decides secrets is the code: the commit must be a trusted PR's head
 * (the PR the event names) or lie on a tested branch.
 */
async function planTrigger(
  deps: PlanDeps,
  request: Extract<ScanRequest, { kind: "trigger" | "rerun" }>,
): Promise<ScanPlan> {
  const { config } = deps;
  if (!isKnownProject(config, request.repo))
    return ignore(`repository ${request.repo} is not in the test map`);
  const unknown = ignore(`context ${request.context} is not in the test map of ${request.repo}`);
  // Checked before asking the forge anything: an event nothing would come of is never retried.
  if (!hasContext(config, request.repo, request.context)) return unknown;
  const trust = await decideCommitTrust(config, deps.forge, request.repo, request.sha, request.pulls);
  if (!trust.run) return ignore(`${request.context} on ${request.sha.slice(0, 8)}: ${trust.reason}; not run`);
  const spec = findContext(config, request.repo, trust.baseBranch ?? undefined, request.context);
  if (!spec) return unknown;
  const subject: Subject = {
    repo: request.repo,
    sha: request.sha,
    pull: trust.pull?.number ?? null,
    baseBranch: trust.baseBranch,
    title: trust.pull?.title ?? "",
  };
  const task = taskFor(subject, spec, trust.trusted, deps.now, `untrusted: ${trust.reason}`);
  // A trigger posted the pending status itself; posting another would hide who triggered it.
  return { subject, actions: [queueAction(spec, task, request.kind === "rerun")], skipped: [] };
}

export function planScan(deps: PlanDeps, request: ScanRequest): Promise<ScanPlan> {
  switch (request.kind) {
    case "pull":
      return planPull(deps, request);
    case "trigger":
    case "rerun":
      return planTrigger(deps, request);
    case "comment":
      return planComment(deps, request);
    case "ignore":
      return Promise.resolve(ignore(request.reason));
  }
}
