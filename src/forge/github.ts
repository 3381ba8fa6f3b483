/**
 * The Forge on GitHub's REST API (or anything speaking it, like the emulator), through Octokit.
 * Every request goes through one hook that repeats transient failures (5xx, 429, network)
 * and turns the final failure into a ForgeError naming method, path and status.
 */
import { Octokit } from "@octokit/rest";
import type { Logger } from "../util/logger.js";
import type { CommitStatus, Forge, PullRequest, StatusState } from "./types.js";

export interface RetryPolicy {
  /** Total tries, the first included. */
  readonly attempts: number;
  /** Delay before the first repeat; doubles with each further one. */
  readonly baseDelayMs: number;
  /** No single wait (backoff or Retry-After) is longer than this. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 10_000 };

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
  ) {
    super(
      `GitHub ${method} ${path} failed: ${status === undefined ? "network error" : status} ${detail}`.trim(),
    );
  }
}

const PAGE_SIZE = 100;

export class GitHubForge implements Forge {
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
}

function installRetry(octokit: Octokit, policy: RetryPolicy, logger: Logger): void {
  octokit.hook.wrap("request", async (request, options) => {
    const method = options.method;
    const path = requestPath(octokit, options);
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(options);
      } catch (error) {
        const failure = describeFailure(error);
        if (attempt >= policy.attempts || !isRetryable(failure.status)) {
          throw new ForgeError(method, path, failure.status, failure.detail);
        }
        const delay = retryDelay(policy, attempt, failure.retryAfter);
        logger.warn(
          { method, path, status: failure.status ?? null, attempt, delayMs: delay },
          `GitHub request failed, trying again: ${failure.detail}`,
        );
        await sleep(delay);
      }
    }
  });
}

interface Failure {
  readonly status: number | undefined;
  readonly detail: string;
  readonly retryAfter?: string;
}

/** Octokit's RequestError, read by shape: it carries `status` and, when a response came, `response`. */
function describeFailure(error: unknown): Failure {
  if (typeof error !== "object" || error === null) return { status: undefined, detail: String(error) };
  const { status, response, message } = error as {
    status?: unknown;
    response?: { headers?: Record<string, string> };
    message?: unknown;
  };
  const detail = typeof message === "string" ? message : "";
  if (response === undefined || typeof status !== "number") return { status: undefined, detail };
  const retryAfter = response.headers?.["retry-after"];
  return retryAfter === undefined ? { status, detail } : { status, detail, retryAfter };
}

function isRetryable(status: number | undefined): boolean {
  return status === undefined || status === 429 || status >= 500;
}

/** The wait before try `attempt + 1`: Retry-After when the server sent one, else exponential backoff. */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfter?: string): number {
  const requested = retryAfter === undefined ? Number.NaN : Number(retryAfter) * 1000;
  const delay =
    Number.isFinite(requested) && requested >= 0 ? requested : policy.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(delay, policy.maxDelayMs);
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
  user: { login: string } | null;
  labels: ReadonlyArray<{ name?: string } | string>;
  head: { sha: string; ref: string };
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
    baseRef: data.base.ref,
    repo,
  };
}

const STATES: readonly string[] = ["pending", "success", "failure", "error"] satisfies StatusState[];

function toCommitStatus(data: {
  context: string;
  state: string;
  description: string | null;
  target_url: string | null;
}): CommitStatus {
  if (!STATES.includes(data.state))
    throw new Error(`GitHub answered an unknown status state ${JSON.stringify(data.state)}`);
  return {
    context: data.context,
    state: data.state as StatusState,
    description: data.description,
    target_url: data.target_url,
  };
}
