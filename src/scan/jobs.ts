/** Making task-queue entries (the bots-compatible job format) for a subject and a context. */
import type { Job } from "../queue/messages.js";
import type { ContextSpec } from "./testmap.js";

/** What is tested: a commit of a repository, usually a PR's head. */
export interface Subject {
  readonly repo: string;
  readonly sha: string;
  readonly pull: number | null;
  readonly baseBranch: string | null;
  readonly title: string;
}

export interface TaskMessage {
  readonly job: Job;
  readonly human: string;
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
}

/** A store folder name unique to this run of this context on this commit. */
export function makeSlug(subject: Subject, context: string, now: Date): string {
  const what = subject.pull !== null ? `pull-${subject.pull}` : (subject.baseBranch ?? "commit");
  const safeContext = context.replace(/[^\w.-]+/g, "-");
  const safeWhat = what.replace(/[^\w.-]+/g, "-");
  return `${safeWhat}-${subject.sha.slice(0, 8)}-${timestamp(now)}-${safeContext}`;
}

export function makeTask(subject: Subject, spec: ContextSpec, now: Date = new Date()): TaskMessage {
  const env: Record<string, string> = { ...spec.env };
  if (subject.baseBranch !== null) env.BASE_BRANCH = subject.baseBranch;
  const job: Job = {
    repo: subject.repo,
    sha: subject.sha,
    pull: subject.pull,
    context: spec.name,
    slug: makeSlug(subject, spec.name, now),
    title: `${spec.name} @ ${subject.repo}${subject.pull !== null ? `#${subject.pull}` : ""} ${subject.sha.slice(0, 8)}`,
    env,
    secrets: [...spec.secrets],
    command_subject: null,
    container: spec.container ?? null,
    timeout: spec.timeout,
    report: null,
    ...(spec.command ? { command: [...spec.command] } : {}),
    ...(spec.capabilities.length > 0 ? { capabilities: [...spec.capabilities] } : {}),
    ...(spec.network ? {} : { network: false }),
  };
  const where = subject.pull !== null ? `pull #${subject.pull}` : `commit ${subject.sha.slice(0, 8)}`;
  const human = `${spec.name} for ${subject.repo} ${where} (${subject.title}) [${spec.queue}, priority ${spec.priority}]`;
  return { job, human };
}
