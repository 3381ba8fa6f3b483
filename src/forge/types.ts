/** What hangar needs of a forge (GitHub, or the emulator standing in for it). */

export type StatusState = "pending" | "success" | "failure" | "error";

export interface CommitStatus {
  readonly context: string;
  readonly state: StatusState;
  readonly description?: string | null;
  readonly target_url?: string | null;
}

export interface PullRequest {
  readonly number: number;
  readonly state: "open" | "closed";
  readonly title: string;
  readonly author: string;
  readonly labels: readonly string[];
  readonly headSha: string;
  readonly headRef: string;
  readonly baseRef: string;
  readonly repo: string;
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
}

/** GitHub refuses status descriptions over 140 characters. */
export const MAX_DESCRIPTION = 140;
