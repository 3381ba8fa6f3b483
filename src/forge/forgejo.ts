/**
 * Forgejo and Gitea (their API is the same for what hangar uses): pulls, commit
 * statuses, raw file contents, org membership, issues and comments, over /api/v1.
 */
import type { Logger } from "../util/logger.js";
import type { ForgeExtras } from "./extras.js";
import type { CommitStatus, Forge, PullRequest, StatusState } from "./types.js";

export interface ForgejoForgeOptions {
  /** The API base, e.g. https://codeberg.org/api/v1 */
  readonly api: string;
  readonly token?: string | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** false: a dry run that logs each write instead of sending it; reads still happen. */
  readonly post?: boolean | undefined;
  readonly logger?: Logger | undefined;
}

export class ForgejoError extends Error {
  override readonly name = "ForgejoError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
  ) {
    super(`Forgejo ${method} ${path} failed: ${status}`);
  }
}

interface ForgejoPull {
  number: number;
  state: string;
  title: string;
  html_url: string;
  user: { login: string } | null;
  labels: { name: string }[] | null;
  /** repo is null when the fork the PR came from was deleted. */
  head: { sha: string; ref: string; repo?: { owner: { login: string } | null } | null };
  base: { ref: string };
}

interface ForgejoStatus {
  context: string;
  /** Forgejo calls a status' state `status`; `warning` has no hangar meaning and reads as failure. */
  status: string;
  description: string | null;
  target_url: string | null;
  created_at?: string;
}

const PAGE_SIZE = 50;
const STATES: readonly string[] = ["pending", "success", "failure", "error"] satisfies StatusState[];

export class ForgejoForge implements Forge, ForgeExtras {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ForgejoForgeOptions) {
    this.base = options.api.replace(/\/+$/, "");
    this.fetch = options.fetch ?? fetch;
  }

  async getPull(repo: string, pull: number): Promise<PullRequest> {
    return toPullRequest(repo, await this.json<ForgejoPull>("GET", `/repos/${repo}/pulls/${pull}`));
  }

  async listOpenPulls(repo: string): Promise<PullRequest[]> {
    const pulls = await this.pages<ForgejoPull>(`/repos/${repo}/pulls?state=open`);
    return pulls.map((pull) => toPullRequest(repo, pull));
  }

  async getStatuses(repo: string, sha: string): Promise<Map<string, CommitStatus>> {
    const statuses = new Map<string, CommitStatus>();
    for (let page = 1; ; page++) {
      const combined = await this.json<{ statuses: ForgejoStatus[] | null }>(
        "GET",
        `/repos/${repo}/commits/${encodeURIComponent(sha)}/status?limit=${PAGE_SIZE}&page=${page}`,
      );
      const list = combined.statuses ?? [];
      for (const status of list) {
        if (statuses.has(status.context)) continue;
        statuses.set(status.context, {
          context: status.context,
          state: (STATES.includes(status.status) ? status.status : "failure") as StatusState,
          description: status.description,
          target_url: status.target_url,
          created_at: status.created_at ?? null,
        });
      }
      if (list.length < PAGE_SIZE) return statuses;
    }
  }

  async postStatus(repo: string, sha: string, status: CommitStatus): Promise<void> {
    await this.json("POST", `/repos/${repo}/statuses/${sha}`, {
      state: status.state,
      context: status.context,
      ...(status.description == null ? {} : { description: status.description }),
      ...(status.target_url == null ? {} : { target_url: status.target_url }),
    });
  }

  async readFile(repo: string, ref: string, path: string): Promise<string | null> {
    const response = await this.request(
      "GET",
      `/repos/${repo}/raw/${path.split("/").map(encodeURIComponent).join("/")}?ref=${encodeURIComponent(ref)}`,
      undefined,
      [404],
    );
    if (response.status === 404) return null;
    return response.text();
  }

  async isOnBranch(repo: string, branch: string, sha: string): Promise<boolean> {
    // branch...sha lists the commits of sha that branch lacks; none: sha is on the branch.
    const response = await this.request(
      "GET",
      `/repos/${repo}/compare/${encodeURIComponent(`${branch}...${sha}`)}`,
      undefined,
      [404],
    );
    if (response.status === 404) return false;
    const compared = JSON.parse(await response.text()) as { total_commits?: unknown };
    return compared.total_commits === 0;
  }

  async isOrgMember(org: string, user: string): Promise<boolean> {
    const response = await this.request("GET", `/orgs/${org}/members/${user}`, undefined, [404]);
    return response.status === 204;
  }

  async createIssue(
    repo: string,
    issue: { title: string; body: string; labels?: string[] },
  ): Promise<number> {
    const labels = issue.labels?.length ? await this.labelIds(repo, issue.labels) : [];
    const created = await this.json<{ number: number }>("POST", `/repos/${repo}/issues`, {
      title: issue.title,
      body: issue.body,
      ...(labels.length > 0 ? { labels } : {}),
    });
    return created.number;
  }

  async comment(repo: string, issue: number, body: string): Promise<void> {
    await this.json("POST", `/repos/${repo}/issues/${issue}/comments`, { body });
  }

  async branchHead(repo: string, branch: string): Promise<string> {
    const found = await this.json<{ commit: { id: string } }>(
      "GET",
      `/repos/${repo}/branches/${encodeURIComponent(branch)}`,
    );
    return found.commit.id;
  }

  async findOpenIssue(repo: string, title: string): Promise<number | null> {
    const issues = await this.pages<{ number: number; title: string }>(
      `/repos/${repo}/issues?state=open&type=issues`,
    );
    return issues.find((issue) => issue.title === title)?.number ?? null;
  }

  async closeIssue(repo: string, issue: number): Promise<void> {
    await this.json("PATCH", `/repos/${repo}/issues/${issue}`, { state: "closed" });
  }

  /** Forgejo takes label ids, not names; names it does not know are left out. */
  private async labelIds(repo: string, names: readonly string[]): Promise<number[]> {
    const labels = await this.pages<{ id: number; name: string }>(`/repos/${repo}/labels`);
    return labels.filter((label) => names.includes(label.name)).map((label) => label.id);
  }

  private async pages<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    const joiner = path.includes("?") ? "&" : "?";
    for (let page = 1; ; page++) {
      const batch = await this.json<T[]>("GET", `${path}${joiner}limit=${PAGE_SIZE}&page=${page}`);
      items.push(...batch);
      if (batch.length < PAGE_SIZE) return items;
    }
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (method !== "GET" && this.options.post === false) {
      this.options.logger?.info({ method, path }, `would ${method} ${path}`);
      return (method === "POST" && path.endsWith("/issues") ? { number: 0 } : {}) as T;
    }
    const response = await this.request(method, path, body);
    const text = await response.text();
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /** One API request; a status outside 2xx and `expected` becomes a ForgejoError naming method and path. */
  private async request(
    method: string,
    path: string,
    body?: unknown,
    expected: number[] = [],
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": "hangar" };
    if (this.options.token !== undefined) headers.authorization = `token ${this.options.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await this.fetch(`${this.base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (response.ok || expected.includes(response.status)) return response;
    await response.arrayBuffer();
    throw new ForgejoError(method, path.replace(/\?.*$/, ""), response.status);
  }
}

function toPullRequest(repo: string, data: ForgejoPull): PullRequest {
  return {
    number: data.number,
    state: data.state === "closed" ? "closed" : "open",
    title: data.title,
    author: data.user?.login ?? "ghost",
    labels: (data.labels ?? []).map((label) => label.name),
    headSha: data.head.sha,
    headRef: data.head.ref,
    headOwner: data.head.repo?.owner?.login ?? null,
    baseRef: data.base.ref,
    repo,
    htmlUrl: data.html_url,
  };
}
