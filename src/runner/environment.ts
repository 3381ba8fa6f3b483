/** The environment a job's command sees: a minimal base plus the job's variables, never the worker's own. */
import type { Job } from "../queue/messages.js";

export interface JobPaths {
  readonly attachments: string;
  readonly home: string;
  /** The job's own temporary directory (the sandbox gives it no other writable place). */
  readonly tmp: string;
}

/** Context `os/scenario`: TEST_OS is the part before the first slash, TEST_SCENARIO the rest. */
export function splitContext(context: string): { os: string; scenario: string } {
  const slash = context.indexOf("/");
  return slash < 0
    ? { os: context, scenario: "" }
    : { os: context.slice(0, slash), scenario: context.slice(slash + 1) };
}

/**
 * The entry's variables that may reach the job: shell-style names only, and
 * none of the dynamic loader's (LD_*), which would act on whatever program
 * starts the job before the job itself runs.
 */
function entryVariables(env: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env ?? {}).filter(
      ([name]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !/^LD_/i.test(name),
    ),
  );
}

export function jobEnvironment(job: Job, paths: JobPaths, logUrl: string): Record<string, string> {
  // A cross-project context `os/scenario@owner/repo[/branch]` names its test before the `@`.
  const { os, scenario } = splitContext(job.context.replace(/@.*$/, ""));
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: paths.home,
    LANG: "C.UTF-8",
    TERM: "dumb",
    CI: "true",
    ...entryVariables(job.env),
    TMPDIR: paths.tmp,
    TEST_OS: os,
    TEST_SCENARIO: scenario,
    TEST_REVISION: job.sha,
    BASE_BRANCH: job.env?.BASE_BRANCH ?? "",
    TEST_PULL: job.pull ? String(job.pull) : "",
    TEST_ATTACHMENTS: paths.attachments,
    HANGAR_LOG_URL: logUrl,
  };
}
