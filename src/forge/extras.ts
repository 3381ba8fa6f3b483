/**
 * What scheduled runs need of a forge beyond the Forge interface: a branch's head
 * commit, and finding, updating and closing the issue that tracks a failing run.
 */
import { Octokit } from "@octokit/rest";

export interface ForgeExtras {
  /** The commit a branch (or any ref) points at. */
  branchHead(repo: string, branch: string): Promise<string>;
  /** The number of an open issue with exactly this title, or null. */
  findOpenIssue(repo: string, title: string): Promise<number | null>;
  closeIssue(repo: string, issue: number): Promise<void>;
}

export interface GitHubExtrasOptions {
  readonly api: string;
  readonly token?: string | undefined;
  /** An authenticating fetch (a GitHub App's); used instead of the token. */
  readonly fetch?: typeof fetch | undefined;
}

const PAGE_SIZE = 100;

function split(repo: string): { owner: string; repo: string } {
  const [owner = "", name = ""] = repo.split("/");
  return { owner, repo: name };
}

export class GitHubExtras implements ForgeExtras {
  private readonly octokit: Octokit;

  constructor(options: GitHubExtrasOptions) {
    this.octokit = new Octokit({
      baseUrl: options.api.replace(/\/+$/, ""),
      userAgent: "hangar",
      ...(options.token === undefined ? {} : { auth: options.token }),
      request: options.fetch === undefined ? {} : { fetch: options.fetch },
    });
  }

  async branchHead(repo: string, branch: string): Promise<string> {
    // The combined status of a ref names the commit it resolved to.
    const { data } = await this.octokit.rest.repos.getCombinedStatusForRef({
      ...split(repo),
      ref: branch,
      per_page: 1,
    });
    return data.sha;
  }

  async findOpenIssue(repo: string, title: string): Promise<number | null> {
    const issues = await this.octokit.paginate(this.octokit.rest.issues.listForRepo, {
      ...split(repo),
      state: "open",
      per_page: PAGE_SIZE,
    });
    return issues.find((issue) => issue.title === title && issue.pull_request === undefined)?.number ?? null;
  }

  async closeIssue(repo: string, issue: number): Promise<void> {
    await this.octokit.rest.issues.update({ ...split(repo), issue_number: issue, state: "closed" });
  }
}
