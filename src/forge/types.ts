/** What hangar needs of a forge (GitHub, or the emulator standing in for it). */

export type StatusState = "pending" | "success" | "failure" | "error";

export interface CommitStatus {
  readonly context: string;
  readonly state: StatusState;
  readonly description?: string | null;
  readonly target_url?: string | null;
  /** When the forge recorded the status (ISO 8601; GitHub gives whole seconds). Only on statuses read back. */
  readonly created_at?: string | null;
}

export interface PullRequest {
  readonly number: number;
  readonly state: "open" | "closed";
  readonly title: string;
  readonly author: string;
  readonly labels: readonly string[];
  readonly headSha: string;
  readonly headRef: string;
  /**
   * The owner of the repository the head branch lives in: a fork's owner, or the base
   * repository's owner for a branch of the base repository. null when that repository is gone.
   */
  readonly headOwner: string | null;
  readonly baseRef: string;
  readonly repo: string;
  /** The pull request's web page, e.g. https://github.com/owner/name/pull/5 */
  readonly htmlUrl: string;
}

export interface Forge {
  getPull(repo: string, pull: number): Promise<PullRequest>;
  listOpenPulls(repo: string): Promise<PullRequest[]>;
  /** The latest status of each context on a commit. */
  getStatuses(repo: string, sha: string): Promise<Map<string, CommitStatus>>;
  postStatus(repo: string, sha: string, status: CommitStatus): Promise<void>;
  /** A file's text at a ref, or null when it does not exist. */
  readFile(repo: string, ref: string, path: string): Promise<string | null>;
  isOrgMember(org: string, user: string): Promise<boolean>;
  createIssue(repo: string, issue: { title: string; body: string; labels?: string[] }): Promise<number>;
  comment(repo: string, issue: number, body: string): Promise<void>;
  /**
   * Whether `sha` is the tip of `branch` of `repo` or one of its ancestors; false when the
   * branch or the commit is unknown. Any other failure throws. Trust decisions treat a forge
   * without this method as one where no commit is on a branch (fail closed).
   */
  isOnBranch?(repo: string, branch: string, sha: string): Promise<boolean>;
}

/** A forge's isOnBranch, or "not on it" when the forge cannot tell: what wrappers pass on. */
export function onBranch(forge: Forge, repo: string, branch: string, sha: string): Promise<boolean> {
  return forge.isOnBranch?.(repo, branch, sha) ?? Promise.resolve(false);
}

/** GitHub refuses status descriptions over 140 characters. */
export const MAX_DESCRIPTION = 140;
