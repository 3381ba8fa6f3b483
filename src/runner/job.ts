/**
 * Phase three for one job: In progress → checkout → run → attachments → result.
 * The three outcomes stay apart: the test failed (failure), the CI broke
 * (error "Internal error"), the job was stopped (error "Cancelled").
 *
 * The checkout belongs to the PR's author: hangar reads what it needs of it
 * (entry point, container image) from git's objects, never through its
 * symlinks, and the public log gets no error text of hangar's internals, only
 * "Internal error (id ...)"; the details go to hangar's own log under that id.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { appendFile, lstat, mkdir, mkdtemp, open, readdir, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Forge } from "../forge/types.js";
import type { Job } from "../queue/messages.js";
import { LogStreamer } from "../store/log.js";
import type { Store } from "../store/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { CheckoutError, checkoutCommit, commitEntry, readCommitFile } from "./checkout.js";
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
  /** A line for the top of the log, e.g. why the job runs untrusted. */
  readonly notice?: string;
}

/** The entry points a repository may have, in order of preference. */
export const ENTRY_POINTS = [".hangar/run", ".cockpit-ci/run"] as const;

/** The hangar CLI a job may call (`"$HANGAR_NODE" "$HANGAR_CLI" image download ...`). */
const HANGAR_CLI = fileURLToPath(new URL("../cli/main.js", import.meta.url));

/** A job that cannot run for a reason the repository (or the entry) must fix: a test failure. */
export class JobFailure extends Error {
  override readonly name = "JobFailure";
}

/** Longest container file hangar reads. */
export const MAX_CONTAINER_FILE = 4096;
/** A container image reference: never an option (`-...`), nothing a shell or podman would read as more. */
const IMAGE_NAME = /^[a-z0-9][A-Za-z0-9._/:@-]{0,254}$/;

export function isValidImageName(name: string): boolean {
  return IMAGE_NAME.test(name);
}

/**
 * The container image a repository asks for: `.hangar/container`, or
 * `.cockpit-ci/container` when the commit has no `.hangar`. Read from git's
 * objects of the checked-out commit: a regular file of at most 4 KiB whose
 * first line that is no comment is a valid image name; anything else is a
 * JobFailure that quotes none of the file.
 */
export async function repositoryImage(checkout: string): Promise<string | undefined> {
  const hasHangar = (await commitEntry(checkout, ".hangar")) !== undefined;
  const path = hasHangar ? ".hangar/container" : ".cockpit-ci/container";
  const file = await readCommitFile(checkout, path, MAX_CONTAINER_FILE);
  switch (file.kind) {
    case "missing":
      return undefined;
    case "not-a-file":
      throw new JobFailure(
        `${path} is not a regular file (git mode ${file.mode}); symbolic links are not read`,
      );
    case "too-large":
      throw new JobFailure(`${path} is larger than ${MAX_CONTAINER_FILE} bytes`);
    case "file": {
      const image = file.text
        .split("\n")
        .map((line) => line.trim())
        .find((line) => line !== "" && !line.startsWith("#"));
      if (image !== undefined && !isValidImageName(image)) {
        throw new JobFailure(
          `${path} does not name a valid container image (letters, digits and . _ / : @ -, starting with a lower-case letter or digit)`,
        );
      }
      return image;
    }
  }
}

export function defaultSlug(job: Job): string {
  const what = job.pull ? `pull-${job.pull}` : "commit";
  return `${what}-${job.sha.slice(0, 8)}-${Date.now()}-${job.context.replace(/[^\w.-]+/g, "-")}`;
}

/**
 * The command to run: the entry's, or the first entry point the commit has,
 * judged by its mode in git's tree, never by following the checkout's
 * symlinks on the host. A symlinked entry point is run as it is: the sandbox
 * resolves it in the job's own view of the file system.
 */
async function entryPoint(job: Job, checkout: string): Promise<string[]> {
  if (job.command && job.command.length > 0) return [...job.command];
  for (const candidate of ENTRY_POINTS) {
    const entry = await commitEntry(checkout, candidate);
    if (entry === undefined) continue;
    if (entry.mode === "100755" || entry.mode === "120000") return [join(checkout, candidate)];
    if (entry.mode === "100644") throw new JobFailure(`${candidate} is not executable`);
    throw new JobFailure(`${candidate} is not a file (git mode ${entry.mode})`);
  }
  throw new JobFailure(`no ${ENTRY_POINTS.join(" or ")} in the repository`);
}

/** The image the job runs in: the entry's (checked like the repository's), or the repository's. */
async function jobImage(job: Job, checkout: string): Promise<string | undefined> {
  if (job.container) {
    if (!isValidImageName(job.container)) throw new JobFailure("the job's container image name is not valid");
    return job.container;
  }
  return repositoryImage(checkout);
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
  // git init would follow a symlink the commit put there, and check out into its target.
  if (await lstat(dir).catch(() => undefined)) {
    throw new JobFailure(`the repository has ${COMMAND_DIR}, which hangar needs for the command repository`);
  }
  await checkoutRepository(deps, subject.repo, subject.sha ?? subject.branch ?? "HEAD", null, dir);
  await mkdir(join(checkout, ".git", "info"), { recursive: true });
  await appendFile(join(checkout, ".git", "info", "exclude"), `/${COMMAND_DIR}/\n`);
  return dir;
}

/** Upload the job's regular files; each is opened without following a symlink, whatever it became meanwhile. */
async function uploadAttachments(log: LogStreamer, dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
      () => undefined,
    );
    if (file === undefined) continue;
    if (!(await file.stat()).isFile()) {
      await file.close();
      continue;
    }
    const stream = file.createReadStream();
    try {
      await log.attach(relative(dir, path), stream);
    } catch (error) {
      stream.destroy();
      throw error;
    }
  }
}

/** A short id that ties the public log's "Internal error" to the details in hangar's own log. */
function errorId(): string {
  return randomBytes(4).toString("hex");
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
    tmp: join(base, "tmp"),
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
      description: stream.mask(description),
      target_url: stream.url,
    });

  let final: FinalStatus;
  let infraFailure: string | undefined;
  /** What the job was doing, for the public log when hangar fails. */
  let stage = "preparing the job";
  try {
    await post("pending", inProgress(deps.worker));
    hooks.onStarted?.(stream.url);
    log.info({ url: stream.url }, "job started");
    stream.write(`${title}\nRunning on: ${deps.worker}\n\n`);
    if (hooks.notice) stream.write(`${hooks.notice}\n\n`);
    if (job.trusted === false && (job.secrets ?? []).length > 0) {
      stream.write("Untrusted code: this job gets no secrets.\n\n");
    }
    for (const dir of [paths.attachments, paths.home, paths.tmp]) await mkdir(dir);
    stage = "checking out the repository";
    await checkoutRepository(deps, job.repo, job.sha, job.pull ?? null, paths.checkout);
    const commandDir = await checkoutCommandSubject(job, deps, paths.checkout);
    stage = "preparing the job";
    const argv = await entryPoint(job, commandDir ?? paths.checkout);
    const image = await jobImage(job, commandDir ?? paths.checkout);
    stage = "running the job";
    const timeout = job.timeout ?? deps.defaultTimeout;
    const outcome = await deps.executor.run({
      argv,
      checkout: paths.checkout,
      attachments: paths.attachments,
      jobDir: base,
      trusted: job.trusted !== false,
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
      const id = errorId();
      stream.write(`\n*** Could not start the job: internal error (id ${id})\n`);
      log.error({ errorId: id, command: argv[0], reason: outcome.reason }, "job could not start");
      infraFailure = "the job could not start";
    }
    stage = "uploading attachments";
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
      // The CI broke, not the test: say so, and put the details only where the operator reads them.
      final = { state: "error", description: INTERNAL_ERROR };
      const id = errorId();
      stream.write(`\n*** Internal error (id ${id}) while ${stage}\n`);
      log.error(
        { errorId: id, stage, err: errorMessage(error), stack: (error as Error).stack },
        "job failed with an internal error",
      );
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
