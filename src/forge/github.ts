/**
 * The Forge on GitHub's REST API (or anything speaking it, like the emulator), through Octokit.
 * Every request goes through one hook that repeats transient failures (5xx, 429, network)
 * and turns the final failure into a ForgeError naming method, path and status.
 */
import { Octokit } from "@octokit/rest";
import type { Logger } from "../util/logger.js";
import {
  type HookDeliveries,
  type HookDelivery,
  type HookTarget,
  listHookDeliveries,
  redeliver,
} from "./hooks.js";
import type { CommitStatus, Forge, PullRequest, StatusState } from "./types.js";

export interface RetryPolicy {
  /** Total tries, the first included. */
  readonly attempts: number;
  /** Delay before the first repeat; doubles with each further one. */
  readonly baseDelayMs: number;
  /** No backoff wait is longer than this. */
  readonly maxDelayMs: number;
  /** A rate limit's Retry-After or reset time is waited for up to this long (default 60 s). */
  readonly maxRateLimitWaitMs?: number;
  /** Each request is aborted after this long, and counts as a failed try (default 30 s). */
  readonly timeoutMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRateLimitWaitMs: 60_000,
  timeoutMs: 30_000,
};

export interface GitHubForgeOptions {
  readonly api: string;
  readonly token?: string | undefined;
  readonly logger: Logger;
  readonly fetch?: typeof fetch | undefined;
  readonly retry?: RetryPolicy | undefined;
}

/** A request that failed for good. `status` is undefined when no response came (network error). */
export class ForgeError extends Error {
  override readonly name = "ForgeError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number | undefined,
    detail: string,
    /** True when trying again later may succeed (5xx, rate limit, timeout, no answer). */
    readonly retryable = false,
  ) {
    super(
      `GitHub ${method} ${path} failed: ${status === undefined ? "network error" : status} ${detail}`.trim(),
    );
  }
}

const PAGE_SIZE = 100;

export class GitHubForge implements Forge, HookDeliveries {
  private readonly octokit: Octokit;

  constructor(options: GitHubForgeOptions) {
    const logger = options.logger.child({ part: "forge" });
    this.octokit = new Octokit({
      baseUrl: options.api.replace(/\/+$/, ""),
      ...(options.token === undefined ? {} : { auth: options.token }),
      userAgent: "hangar",
      request: options.fetch === undefined ? {} : { fetch: options.fetch },
      log: {
        debug: (message: string) => logger.debug(message),
        info: (message: string) => logger.info(message),
        warn: (message: string) => logger.warn(message),
        error: (message: string) => logger.error(message),
      },
    });
    installRetry(this.octokit, options.retry ?? DEFAULT_RETRY, logger);
  }

  async getPull(repo: string, pull: number): Promise<PullRequest> {
    const { data } = await this.octokit.rest.pulls.get({ ...splitRepo(repo), pull_number: pull });
    return toPullRequest(repo, data);
  }

  async listOpenPulls(repo: string): Promise<PullRequest[]> {
    const pulls = await this.octokit.paginate(this.octokit.rest.pulls.list, {
      ...splitRepo(repo),
      state: "open",
      per_page: PAGE_SIZE,
    });
    return pulls.map((data) => toPullRequest(repo, data));
  }

  async getStatuses(repo: string, sha: string): Promise<Map<string, CommitStatus>> {
    // The combined status already holds only the latest status per context; it is paginated
    // by context, and its response shape is one paginate() does not unwrap, so page by hand.
    const statuses = new Map<string, CommitStatus>();
    for (let page = 1; ; page++) {
      const { data } = await this.octokit.rest.repos.getCombinedStatusForRef({
        ...splitRepo(repo),
        ref: sha,
        per_page: PAGE_SIZE,
        page,
      });
      for (const status of data.statuses) {
        if (!statuses.has(status.context)) statuses.set(status.context, toCommitStatus(status));
      }
      if (data.statuses.length < PAGE_SIZE || statuses.size >= data.total_count) return statuses;
    }
  }

  async postStatus(repo: string, sha: string, status: CommitStatus): Promise<void> {
    await this.octokit.rest.repos.createCommitStatus({
      ...splitRepo(repo),
      sha,
      state: status.state,
      context: status.context,
      ...(status.description == null ? {} : { description: status.description }),
      ...(status.target_url == null ? {} : { target_url: status.target_url }),
    });
  }

  async readFile(repo: string, ref: string, path: string): Promise<string | null> {
    try {
      const { data } = await this.octokit.rest.repos.getContent({
        ...splitRepo(repo),
        path,
        ref,
        mediaType: { format: "raw" },
      });
      // The raw media type answers a file with its bytes; a directory still comes as a JSON list.
      const body: unknown = data;
      if (typeof body === "string") return body;
      if (body instanceof ArrayBuffer) return new TextDecoder().decode(body);
      return null;
    } catch (error) {
      if (error instanceof ForgeError && error.status === 404) return null;
      throw error;
    }
  }

  async isOnBranch(repo: string, branch: string, sha: string): Promise<boolean> {
    try {
      // branch...sha lists the commits of sha that branch lacks: none ("identical" or "behind")
      // means sha is the branch's tip or an ancestor of it. One commit per page is all we need.
      const { data } = await this.octokit.rest.repos.compareCommitsWithBasehead({
        ...splitRepo(repo),
        basehead: `${branch}...${sha}`,
        per_page: 1,
      });
      return data.status === "identical" || data.status === "behind";
    } catch (error) {
      // An unknown branch or commit (404), or commits without a common history (422): not on it.
      if (error instanceof ForgeError && (error.status === 404 || error.status === 422)) return false;
      throw error;
    }
  }

  async isOrgMember(org: string, user: string): Promise<boolean> {
    try {
      // 204: a member. 302 (requester not in the org; redirects to the public list): not known to be one.
      const response = await this.octokit.rest.orgs.checkMembershipForUser({
        org,
        username: user,
        request: { redirect: "manual" },
      });
      return (response.status as number) === 204;
    } catch (error) {
      if (error instanceof ForgeError && error.status === 404) return false;
      throw error;
    }
  }

  async createIssue(
    repo: string,
    issue: { title: string; body: string; labels?: string[] },
  ): Promise<number> {
    const { data } = await this.octokit.rest.issues.create({
      ...splitRepo(repo),
      title: issue.title,
      body: issue.body,
      ...(issue.labels === undefined ? {} : { labels: issue.labels }),
    });
    return data.number;
  }

  async comment(repo: string, issue: number, body: string): Promise<void> {
    await this.octokit.rest.issues.createComment({ ...splitRepo(repo), issue_number: issue, body });
  }

  listHookDeliveries(hook: HookTarget, since: Date): Promise<HookDelivery[]> {
    return listHookDeliveries(this.octokit, hook, since);
  }

  redeliver(hook: HookTarget, attemptId: number): Promise<void> {
    return redeliver(this.octokit, hook, attemptId);
  }
}

function installRetry(octokit: Octokit, policy: RetryPolicy, logger: Logger): void {
  const timeoutMs = policy.timeoutMs ?? DEFAULT_RETRY.timeoutMs ?? 30_000;
  octokit.hook.wrap("request", async (request, options) => {
    const method = options.method;
    const path = requestPath(octokit, options);
    for (let attempt = 1; ; attempt++) {
      try {
        // Inner hooks are bound to this very options object, so the signal goes in by mutation.
        options.request = { ...options.request, signal: AbortSignal.timeout(timeoutMs) };
        return await request(options);
      } catch (error) {
        const failure = describeFailure(error);
        if (attempt >= policy.attempts || !isRetryable(failure)) {
          throw new ForgeError(method, path, failure.status, failure.detail, isRetryable(failure));
        }
        const delay = retryDelay(policy, attempt, failure);
        logger.warn(
          { method, path, status: failure.status ?? null, attempt, delayMs: delay },
          `GitHub request failed, trying again: ${failure.detail}`,
        );
        await sleep(delay);
      }
    }
  });
}

/** Why a request failed; `status` is undefined when no response came (network error, timeout). */
export interface Failure {
  readonly status: number | undefined;
  readonly detail: string;
  /** The response's headers, lower-case names. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
}

/** Octokit's RequestError, read by shape: it carries `status` and, when a response came, `response`. */
function describeFailure(error: unknown): Failure {
  if (typeof error !== "object" || error === null) return { status: undefined, detail: String(error) };
  const { status, response, message, name } = error as {
    status?: unknown;
    response?: { headers?: Record<string, string> };
    message?: unknown;
    name?: unknown;
  };
  const detail = name === "TimeoutError" ? "timed out" : typeof message === "string" ? message : "";
  if (response === undefined || typeof status !== "number") return { status: undefined, detail };
  return { status, detail, headers: response.headers ?? {} };
}

/** A primary rate limit (remaining 0) or a secondary one (403 with Retry-After). */
function isRateLimited(failure: Failure): boolean {
  const headers = failure.headers ?? {};
  if (failure.status === 429) return true;
  return (
    failure.status === 403 &&
    (headers["x-ratelimit-remaining"] === "0" || headers["retry-after"] !== undefined)
  );
}

export function isRetryable(failure: Failure): boolean {
  const { status } = failure;
  return status === undefined || status >= 500 || isRateLimited(failure);
}

/**
 * The wait before try `attempt + 1`. A rate limit's Retry-After (seconds or an HTTP date) or
 * x-ratelimit-reset (epoch seconds) is honoured up to maxRateLimitWaitMs; otherwise
 * exponential backoff up to maxDelayMs.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  failure?: Failure,
  now = Date.now(),
): number {
  const backoff = Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  const requested = failure === undefined ? undefined : requestedWait(failure, now);
  if (requested === undefined) return backoff;
  return Math.min(Math.max(requested, 0), policy.maxRateLimitWaitMs ?? DEFAULT_RETRY.maxRateLimitWaitMs ?? 0);
}

function requestedWait(failure: Failure, now: number): number | undefined {
  const headers = failure.headers ?? {};
  const retryAfter = headers["retry-after"];
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return seconds * 1000;
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return date - now;
  }
  const reset = Number(headers["x-ratelimit-reset"]);
  if (headers["x-ratelimit-remaining"] === "0" && Number.isFinite(reset)) return reset * 1000 - now + 1000;
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The request's path without base URL or query: what errors and logs name. */
function requestPath(
  octokit: Octokit,
  options: Parameters<typeof octokit.request.endpoint.parse>[0],
): string {
  const url = new URL(octokit.request.endpoint.parse(options).url);
  return decodeURIComponent(url.pathname);
}

function splitRepo(repo: string): { owner: string; repo: string } {
  const slash = repo.indexOf("/");
  if (slash <= 0 || slash === repo.length - 1)
    throw new Error(`expected a repository as owner/name, got ${JSON.stringify(repo)}`);
  return { owner: repo.slice(0, slash), repo: repo.slice(slash + 1) };
}

interface GitHubPull {
  number: number;
  state: string;
  title: string;
  html_url: string;
  user: { login: string } | null;
  labels: ReadonlyArray<{ name?: string } | string>;
  /** repo is null when the fork the PR came from was deleted. */
  head: { sha: string; ref: string; repo: { owner: { login: string } | null } | null };
  base: { ref: string };
}

function toPullRequest(repo: string, data: GitHubPull): PullRequest {
  return {
    number: data.number,
    state: data.state === "closed" ? "closed" : "open",
    title: data.title,
    author: data.user?.login ?? "ghost",
    labels: data.labels
      .map((label) => (typeof label === "string" ? label : (label.name ?? "")))
      .filter(Boolean),
    headSha: data.head.sha,
    headRef: data.head.ref,
    headOwner: data.head.repo?.owner?.login ?? null,
    baseRef: data.base.ref,
    repo,
    htmlUrl: data.html_url,
  };
}

const STATES: readonly string[] = ["pending", "success", "failure", "error"] satisfies StatusState[];

function toCommitStatus(data: {
  context: string;
  state: string;
  description: string | null;
  target_url: string | null;
  created_at?: string;
}): CommitStatus {
  if (!STATES.includes(data.state))
    throw new Error(`GitHub answered an unknown status state ${JSON.stringify(data.state)}`);
  return {
    context: data.context,
    state: data.state as StatusState,
    description: data.description,
    target_url: data.target_url,
    created_at: data.created_at ?? null,
  };
}
