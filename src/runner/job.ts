/**
 * Phase three for one job: In progress → checkout → run → attachments → result.
 * The three outcomes stay apart: the test failed (failure), the CI broke
 * (error "Internal error", details in the log), the job was stopped (error "Cancelled").
 */
import { constants, createReadStream } from "node:fs";
import { access, appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Forge } from "../forge/types.js";
import type { Job } from "../queue/messages.js";
import { LogStreamer } from "../store/log.js";
import type { Store } from "../store/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { CheckoutError, checkoutCommit } from "./checkout.js";
import { jobEnvironment } from "./environment.js";
import type { Executor } from "./executor.js";
import {
  type FinalStatus,
  fitDescription,
  INTERNAL_ERROR,
  inProgress,
  statusFor,
  supersededBy,
} from "./outcome.js";
import { JOB_DIR_PREFIX, markOwner, markProcessGroup } from "./reap.js";
import { isNetworkError, stopReason } from "./stop.js";

export interface JobDeps {
  readonly forge: Forge;
  readonly store: Store;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly worker: string;
  readonly workDir: string;
  readonly cloneBase: string;
  /** A clone token, or a getter per repository (a GitHub App's installation tokens expire). */
  readonly cloneToken?: string | ((repo: string) => Promise<string | undefined>);
  /** The clone base per repository, where projects live on different forges. */
  readonly cloneBaseFor?: (repo: string) => string;
  /** Secrets this worker has, by name; a job gets those it names. */
  readonly secrets: Readonly<Record<string, string>>;
  readonly defaultTimeout: number;
  /** What this worker can do (config and probes); jobs see it as HANGAR_CAPABILITIES. */
  readonly capabilities?: readonly string[];
}

/** How a run ended, before anything is posted: the worker decides what GitHub sees. */
export interface JobEnding {
  readonly final: FinalStatus;
  /** Set when the CI's infrastructure failed (not the test): a short reason, worth another attempt. */
  readonly infraFailure?: string;
}

/** What to post for an ending: a status (final or pending), or nothing; and a last line for the log. */
export interface Verdict {
  readonly status: { readonly state: FinalStatus["state"] | "pending"; readonly description: string } | null;
  readonly note?: string;
}

export interface JobHooks {
  /** The job's slug (its store folder); defaultSlug when absent. */
  readonly slug?: string;
  /** After "In progress" is posted. */
  readonly onStarted?: (logUrl: string) => void;
  /** Decides the status to post; without it, the run's own final status is posted. */
  readonly conclude?: (ending: JobEnding, logUrl: string) => Promise<Verdict>;
}

/** The entry points a repository may have, in order of preference. */
export const ENTRY_POINTS = [".hangar/run", ".cockpit-ci/run"] as const;

/** The hangar CLI a job may call (`"$HANGAR_NODE" "$HANGAR_CLI" image download ...`). */
const HANGAR_CLI = fileURLToPath(new URL("../cli/main.js", import.meta.url));

/** The container image a repository asks for: `.hangar/container`, or `.cockpit-ci/container` without `.hangar/`. */
export async function repositoryImage(checkout: string): Promise<string | undefined> {
  const hasHangarDir = await access(join(checkout, ".hangar"), constants.F_OK).then(
    () => true,
    () => false,
  );
  const file = join(checkout, hasHangarDir ? ".hangar/container" : ".cockpit-ci/container");
  const text = await readFile(file, "utf8").catch(() => "");
  const image = text
    .split("\n")
    .map((line) => line.trim())
    .find((line) => line !== "" && !line.startsWith("#"));
  return image;
}

/** A job that cannot run for a reason the repository must fix: a test failure, not an internal error. */
class JobFailure extends Error {}

export function defaultSlug(job: Job): string {
  const what = job.pull ? `pull-${job.pull}` : "commit";
  return `${what}-${job.sha.slice(0, 8)}-${Date.now()}-${job.context.replace(/[^\w.-]+/g, "-")}`;
}

async function entryPoint(job: Job, checkout: string): Promise<string[]> {
  if (job.command && job.command.length > 0) return [...job.command];
  for (const candidate of ENTRY_POINTS) {
    const path = join(checkout, candidate);
    try {
      await access(path, constants.F_OK);
    } catch {
      continue;
    }
    try {
      await access(path, constants.X_OK);
    } catch {
      throw new JobFailure(`${candidate} is not executable`);
    }
    return [path];
  }
  throw new JobFailure(`no ${ENTRY_POINTS.join(" or ")} in the repository`);
}

async function writeSecrets(
  job: Job,
  deps: JobDeps,
  dir: string,
): Promise<{ dir?: string; values: string[] }> {
  const names = (job.secrets ?? []).filter((name) => deps.secrets[name] !== undefined);
  if (names.length === 0) return { values: [] };
  await mkdir(dir, { mode: 0o700 });
  const values: string[] = [];
  for (const name of names) {
    const value = deps.secrets[name] as string;
    await writeFile(join(dir, name), value, { mode: 0o600 });
    values.push(value);
  }
  return { dir, values };
}

async function checkoutRepository(
  deps: JobDeps,
  repo: string,
  ref: string,
  pull: number | null,
  dir: string,
): Promise<void> {
  const token = typeof deps.cloneToken === "function" ? await deps.cloneToken(repo) : deps.cloneToken;
  const cloneBase = deps.cloneBaseFor?.(repo) ?? deps.cloneBase;
  await checkoutCommit({ cloneBase, ...(token ? { token } : {}), repo, sha: ref, pull, dir });
}

/** Where a cross-project job's command repository is checked out, inside the checkout under test. */
export const COMMAND_DIR = ".hangar-command";

/** A cross-project job (command_subject names another repository) runs that repository's entry point. */
async function checkoutCommandSubject(
  job: Job,
  deps: JobDeps,
  checkout: string,
): Promise<string | undefined> {
  const subject = job.command_subject;
  if (!subject || subject.repo === job.repo) return undefined;
  const dir = join(checkout, COMMAND_DIR);
  await checkoutRepository(deps, subject.repo, subject.sha ?? subject.branch ?? "HEAD", null, dir);
  await mkdir(join(checkout, ".git", "info"), { recursive: true });
  await appendFile(join(checkout, ".git", "info", "exclude"), `/${COMMAND_DIR}/\n`);
  return dir;
}

async function uploadAttachments(log: LogStreamer, dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    await log.attach(relative(dir, path), createReadStream(path));
  }
}

export async function runJob(
  job: Job,
  deps: JobDeps,
  signal: AbortSignal,
  hooks: JobHooks = {},
): Promise<FinalStatus> {
  const slug = hooks.slug ?? job.slug ?? defaultSlug(job);
  const title =
    job.title ?? `${job.context} @ ${job.repo}${job.pull ? `#${job.pull}` : ""} ${job.sha.slice(0, 8)}`;
  const log = deps.logger.child({ repo: job.repo, sha: job.sha.slice(0, 12), context: job.context, slug });
  const base = await mkdtemp(join(deps.workDir, JOB_DIR_PREFIX));
  await markOwner(base);
  const paths = {
    checkout: join(base, "checkout"),
    attachments: join(base, "attachments"),
    home: join(base, "home"),
  };
  // An untrusted author's code never sees a secret, whatever the entry names.
  const secrets: { dir?: string; values: string[] } =
    job.trusted === false ? { values: [] } : await writeSecrets(job, deps, join(base, "secrets"));
  const stream = new LogStreamer(
    deps.store,
    slug,
    {
      title,
      context: job.context,
      repo: job.repo,
      sha: job.sha,
      pull: job.pull ?? null,
      worker: deps.worker,
    },
    { mask: secrets.values },
  );
  const post = (state: FinalStatus["state"] | "pending", description: string) =>
    deps.forge.postStatus(job.repo, job.sha, {
      context: job.context,
      state,
      description,
      target_url: stream.url,
    });

  let final: FinalStatus;
  let infraFailure: string | undefined;
  try {
    await post("pending", inProgress(deps.worker));
    hooks.onStarted?.(stream.url);
    log.info({ url: stream.url }, "job started");
    stream.write(`${title}\nRunning on: ${deps.worker}\n\n`);
    if (job.trusted === false && (job.secrets ?? []).length > 0) {
      stream.write("Untrusted code: this job gets no secrets.\n\n");
    }
    await mkdir(paths.attachments);
    await mkdir(paths.home);
    await checkoutRepository(deps, job.repo, job.sha, job.pull ?? null, paths.checkout);
    const commandDir = await checkoutCommandSubject(job, deps, paths.checkout);
    const argv = await entryPoint(job, commandDir ?? paths.checkout);
    const image = job.container ?? (await repositoryImage(commandDir ?? paths.checkout));
    const timeout = job.timeout ?? deps.defaultTimeout;
    const outcome = await deps.executor.run({
      argv,
      checkout: paths.checkout,
      attachments: paths.attachments,
      jobDir: base,
      network: job.trusted !== false && job.network !== false,
      env: {
        ...jobEnvironment(job, paths, stream.url),
        HANGAR_NODE: process.execPath,
        HANGAR_CLI,
        HANGAR_CAPABILITIES: (deps.capabilities ?? []).join(","),
      },
      ...(secrets.dir ? { secretsDir: secrets.dir } : {}),
      ...(image ? { image } : {}),
      ...(job.capabilities ? { capabilities: job.capabilities } : {}),
      timeoutMs: timeout * 60_000,
      signal,
      onStarted: (group) => void markProcessGroup(base, group).catch(() => undefined),
      onOutput: (chunk) => stream.write(chunk),
    });
    if (outcome.kind === "not-started") {
      stream.write(`\n*** Could not start ${argv[0]}: ${outcome.reason}\n`);
      infraFailure = "the job could not start";
    }
    await uploadAttachments(stream, paths.attachments);
    final = statusFor(outcome, deps.worker, timeout);
    const stop = stopReason(signal);
    if (outcome.kind === "cancelled" && stop?.kind === "superseded" && stop.by) {
      final = { state: "error", description: supersededBy(stop.by) };
    }
  } catch (error) {
    if (error instanceof JobFailure) {
      final = { state: "failure", description: fitDescription(error.message, deps.worker) };
    } else {
      if (error instanceof CheckoutError) {
        if (isNetworkError(error.message)) infraFailure = "a network error in the clone";
      } else {
        infraFailure = "an internal error";
      }
      // The CI broke, not the test: say so on GitHub and put the details where a maintainer reads them.
      final = { state: "error", description: INTERNAL_ERROR };
      const detail =
        error instanceof CheckoutError ? error.message : ((error as Error).stack ?? errorMessage(error));
      stream.write(`\n*** Internal error: ${detail}\n`);
      log.error({ err: errorMessage(error) }, "job failed with an internal error");
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  const verdict: Verdict = hooks.conclude
    ? await hooks.conclude({ final, ...(infraFailure ? { infraFailure } : {}) }, stream.url)
    : { status: final };
  stream.write(`\n*** ${final.state}: ${final.description}\n`);
  if (verdict.note) stream.write(`*** ${verdict.note}\n`);
  const posted = verdict.status;
  const shown: FinalStatus =
    posted && posted.state !== "pending" ? { state: posted.state, description: posted.description } : final;
  await stream.finish(shown.state, shown.description);
  if (verdict.status) await post(verdict.status.state, verdict.status.description);
  log.info(
    { state: final.state, description: final.description, posted: verdict.status?.description ?? null },
    "job finished",
  );
  return final;
}
