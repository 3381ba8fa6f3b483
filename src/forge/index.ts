/** The forge part: what hangar needs of GitHub, and the factory that picks real or dry-run posting. */
import type { Logger } from "../util/logger.js";
import { GitHubForge, type RetryPolicy } from "./github.js";
import type { CommitStatus, Forge } from "./types.js";

export {
  DEFAULT_RETRY,
  ForgeError,
  GitHubForge,
  type GitHubForgeOptions,
  type RetryPolicy,
} from "./github.js";
export * from "./types.js";

export interface CreateForgeOptions {
  readonly api: string;
  readonly token?: string | undefined;
  /** false: a dry run that logs each write (status, issue, comment) instead of sending it; reads still happen. */
  readonly post: boolean;
  readonly logger: Logger;
  readonly fetch?: typeof fetch | undefined;
  readonly retry?: RetryPolicy | undefined;
}

export function createForge(options: CreateForgeOptions): Forge {
  const forge = new GitHubForge(options);
  return options.post ? forge : new DryRunForge(forge, options.logger.child({ part: "forge", dryRun: true }));
}

/** Reads from the real forge; writes only go to the log. */
class DryRunForge implements Forge {
  constructor(
    private readonly reader: Forge,
    private readonly logger: Logger,
  ) {}

  getPull: Forge["getPull"] = (repo, pull) => this.reader.getPull(repo, pull);
  listOpenPulls: Forge["listOpenPulls"] = (repo) => this.reader.listOpenPulls(repo);
  getStatuses: Forge["getStatuses"] = (repo, sha) => this.reader.getStatuses(repo, sha);
  readFile: Forge["readFile"] = (repo, ref, path) => this.reader.readFile(repo, ref, path);
  isOrgMember: Forge["isOrgMember"] = (org, user) => this.reader.isOrgMember(org, user);

  async postStatus(repo: string, sha: string, status: CommitStatus): Promise<void> {
    this.logger.info({ repo, sha, status }, `would post status ${status.context}: ${status.state}`);
  }

  /** Returns 0: no issue was made. */
  async createIssue(
    repo: string,
    issue: { title: string; body: string; labels?: string[] },
  ): Promise<number> {
    this.logger.info({ repo, title: issue.title, labels: issue.labels ?? [] }, "would create issue");
    return 0;
  }

  async comment(repo: string, issue: number, body: string): Promise<void> {
    this.logger.info({ repo, issue, bytes: body.length }, "would comment");
  }
}
