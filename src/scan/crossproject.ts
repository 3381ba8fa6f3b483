/**
 * Cross-project contexts: `context@owner/repo[/branch]` runs another repository's
 * tests (its `.hangar/run` at that branch) against this PR. The status is posted
 * on this PR under the whole name; the job names the other repository as its
 * `command_subject`, as Cockpit's bots do.
 */
import type { TaskMessage } from "./jobs.js";

export interface CrossProject {
  /** The context as the other repository knows it. */
  readonly context: string;
  readonly repo: string;
  /** null: the other repository's default branch. */
  readonly branch: string | null;
}

const CROSS_PROJECT = /^([^@\s]+)@([\w.-]+\/[\w.-]+)(?:\/(\S+))?$/;

/** The parts of a cross-project context name, or null for a plain context. */
export function parseCrossProject(name: string): CrossProject | null {
  const match = CROSS_PROJECT.exec(name);
  if (!match?.[1] || !match[2]) return null;
  return { context: match[1], repo: match[2], branch: match[3] ?? null };
}

/** The task with `command_subject` set when its context names another repository. */
export function withCommandSubject(task: TaskMessage): TaskMessage {
  const cross = parseCrossProject(task.job.context);
  if (cross === null || cross.repo === task.job.repo) return task;
  return {
    job: {
      ...task.job,
      command_subject: { repo: cross.repo, ...(cross.branch === null ? {} : { branch: cross.branch }) },
    },
    human: `${task.human} with the tests of ${cross.repo}${cross.branch === null ? "" : `/${cross.branch}`}`,
  };
}
