/**
 * Reporting through GitHub's Checks API instead of commit statuses: a Forge wrapper
 * whose postStatus creates or updates one check run per context (with the
 * description as its title, the log link as its details URL and in its summary),
 * so the runner stays the same. Needs a GitHub App: only apps may write check runs.
 * Pending direct triggers still go out as commit statuses: their `status` event is
 * what queues the job.
 */
import { Octokit } from "@octokit/rest";
import { type CommitStatus, type Forge, onBranch } from "./types.js";

export interface ChecksForgeOptions {
  /** Everything else (pulls, files, issues, commit statuses) goes here. */
  readonly base: Forge;
  readonly api: string;
  /** A fetch that authenticates as the App's installation (GitHubAppAuth.fetch). */
  readonly fetch: typeof fetch;
}

type Conclusion = "success" | "failure" | "cancelled";

interface CheckRunBody {
  readonly name: string;
  readonly external_id: string;
  readonly status: "queued" | "in_progress" | "completed";
  readonly conclusion?: Conclusion;
  readonly details_url?: string;
  readonly output: { readonly title: string; readonly summary: string };
}

interface CheckRunData {
  readonly id: number;
  readonly name: string;
  readonly external_id: string | null;
  readonly status: string;
  readonly conclusion: string | null;
  readonly details_url: string | null;
  readonly started_at?: string | null;
  readonly output: { readonly title: string | null };
}

const PAGE_SIZE = 100;
const DIRECT_TRIGGER = "(direct trigger)";
const CANCELLED = "Cancelled";

/** A hangar status as a check run. */
export function checkRunFor(status: CommitStatus): CheckRunBody {
  const title = status.description ?? status.state;
  const link = status.target_url ? `\n\n[Log](${status.target_url})` : "";
  const common = {
    name: status.context,
    external_id: status.context,
    output: { title, summary: `${title}${link}` },
    ...(status.target_url ? { details_url: status.target_url } : {}),
  };
  if (status.state === "pending") {
    return { ...common, status: status.target_url ? "in_progress" : "queued" };
  }
  const conclusion: Conclusion =
    status.state === "success" ? "success" : status.description === CANCELLED ? "cancelled" : "failure";
  return { ...common, status: "completed", conclusion };
}

/** A check run read back as the status hangar would have posted. */
export function statusOfCheckRun(run: CheckRunData): CommitStatus {
  const context = run.external_id || run.name;
  const description = run.output.title;
  // A run is updated in place; when it was made is what tells the commit existed by then.
  const base = { context, description, target_url: run.details_url, created_at: run.started_at ?? null };
  if (run.status !== "completed") return { ...base, state: "pending" };
  if (run.conclusion === "success") return { ...base, state: "success" };
  if (run.conclusion === "failure" && !description?.startsWith("Internal error"))
    return { ...base, state: "failure" };
  return { ...base, state: "error" };
}

export class ChecksForge implements Forge {
  private readonly octokit: Octokit;
  private readonly base: Forge;

  constructor(options: ChecksForgeOptions) {
    this.base = options.base;
    this.octokit = new Octokit({
      baseUrl: options.api.replace(/\/+$/, ""),
      userAgent: "hangar",
      request: { fetch: options.fetch },
    });
  }

  getPull: Forge["getPull"] = (repo, pull) => this.base.getPull(repo, pull);
  listOpenPulls: Forge["listOpenPulls"] = (repo) => this.base.listOpenPulls(repo);
  readFile: Forge["readFile"] = (repo, ref, path) => this.base.readFile(repo, ref, path);
  isOrgMember: Forge["isOrgMember"] = (org, user) => this.base.isOrgMember(org, user);
  isOnBranch = (repo: string, branch: string, sha: string) => onBranch(this.base, repo, branch, sha);
  createIssue: Forge["createIssue"] = (repo, issue) => this.base.createIssue(repo, issue);
  comment: Forge["comment"] = (repo, issue, body) => this.base.comment(repo, issue, body);

  /** Commit statuses (direct triggers), overridden by the latest check run of each context. */
  async getStatuses(repo: string, sha: string): Promise<Map<string, CommitStatus>> {
    const statuses = await this.base.getStatuses(repo, sha);
    const seen = new Set<string>();
    for (const run of await this.listRuns(repo, sha)) {
      const status = statusOfCheckRun(run);
      if (seen.has(status.context)) continue;
      seen.add(status.context);
      statuses.set(status.context, status);
    }
    return statuses;
  }

  async postStatus(repo: string, sha: string, status: CommitStatus): Promise<void> {
    if (status.state === "pending" && status.description?.endsWith(DIRECT_TRIGGER)) {
      await this.base.postStatus(repo, sha, status);
      return;
    }
    const body = checkRunFor(status);
    const open = (await this.listRuns(repo, sha, status.context)).find((run) => run.status !== "completed");
    const [owner = "", name = ""] = repo.split("/");
    // A finished run stays as it is; running the context again makes a new run, as GitHub's Re-run does.
    if (open === undefined) {
      await this.octokit.rest.checks.create({ owner, repo: name, head_sha: sha, ...body });
    } else {
      await this.octokit.rest.checks.update({ owner, repo: name, check_run_id: open.id, ...body });
    }
  }

  /** Check runs on a commit, newest first; only those of one context when given. */
  private async listRuns(repo: string, sha: string, context?: string): Promise<CheckRunData[]> {
    const [owner = "", name = ""] = repo.split("/");
    const runs: CheckRunData[] = [];
    for (let page = 1; ; page++) {
      const { data } = await this.octokit.rest.checks.listForRef({
        owner,
        repo: name,
        ref: sha,
        per_page: PAGE_SIZE,
        page,
        filter: "all",
        ...(context === undefined ? {} : { check_name: context }),
      });
      runs.push(...data.check_runs);
      if (data.check_runs.length < PAGE_SIZE) break;
    }
    return runs.sort((a, b) => b.id - a.id);
  }
}
