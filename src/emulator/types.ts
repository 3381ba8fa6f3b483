/** The emulator's public types: options, control inputs and results, records. */
import type { FileMap } from "./git.js";
import type { AuthorAssociation } from "./payloads.js";
import type { WebhookDelivery, WebhookTarget } from "./webhooks.js";

export type { FileContent, FileMap } from "./git.js";
export type { WebhookDelivery, WebhookTarget } from "./webhooks.js";

export interface EmulatorOptions {
  /** Holds the bare repositories, as `<dir>/<owner>/<name>.git`. Created when missing. */
  readonly dir: string;
  readonly webhook?: WebhookTarget | null;
  /** When set, API requests must carry `Authorization: token <it>` (or Bearer) or get 401. */
  readonly token?: string;
  /** The login the token stands for: creator of statuses, issues and comments. */
  readonly user?: string;
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
}

export interface CreateRepoInput {
  /** owner/name */
  readonly repo: string;
  readonly files?: FileMap;
  readonly defaultBranch?: string;
  /** Organization (the default) makes payloads carry `organization`; User makes the owner a person. */
  readonly ownerType?: "User" | "Organization";
  readonly private?: boolean;
  readonly description?: string;
  readonly message?: string;
}

export interface PushBranchInput {
  readonly repo: string;
  readonly branch: string;
  readonly files: FileMap;
  /** Where a new branch starts; the default branch unless given. Ignored for an existing branch. */
  readonly from?: string;
  readonly message?: string;
  readonly author?: string;
}

export interface OpenPullInput {
  readonly repo: string;
  /** Files the PR adds, changes (or deletes with null) on top of the base branch. */
  readonly files: FileMap;
  readonly title?: string;
  readonly body?: string;
  readonly author?: string;
  readonly labels?: readonly string[];
  /** The base branch; the repository's default branch unless given. */
  readonly base?: string;
  /** The head branch's name; `pr-<number>` unless given. */
  readonly branch?: string;
  /**
   * The PR comes from this owner's fork: its head branch is then no branch of the base
   * repository (only `refs/pull/<number>/head` holds it there), and the pull's `head.repo`
   * and `head.user` name the fork's owner. Without it the head branch is in the base repository.
   */
  readonly fork?: string;
  readonly message?: string;
  readonly draft?: boolean;
  /** Overrides the association derived from owner, org membership and earlier PRs. */
  readonly authorAssociation?: AuthorAssociation;
  /** false: open silently, send no webhook. */
  readonly deliver?: boolean;
}

export interface OpenPullResult {
  readonly number: number;
  readonly sha: string;
  readonly baseSha: string;
  readonly branch: string;
  /** null when no webhook is configured or `deliver` was false. */
  readonly delivery: WebhookDelivery | null;
}

export interface PushToPullInput {
  readonly repo: string;
  readonly number: number;
  readonly files: FileMap;
  readonly message?: string;
  readonly deliver?: boolean;
}

export interface PushToPullResult {
  readonly sha: string;
  readonly before: string;
  readonly delivery: WebhookDelivery | null;
}

export interface AddCommentInput {
  readonly repo: string;
  /** An issue or pull request. */
  readonly number: number;
  readonly author: string;
  readonly body: string;
  /** false: record the comment, send no webhook (a test may deliver `event` later). */
  readonly deliver?: boolean;
}

export interface AddCommentResult {
  readonly id: number;
  /** GitHub's created_at: whole seconds. */
  readonly createdAt: string;
  /** The `issue_comment` payload, as sent (or as it would have been). */
  readonly event: Record<string, unknown>;
  readonly delivery: WebhookDelivery | null;
}

export interface ClosePullInput {
  readonly repo: string;
  readonly number: number;
  readonly deliver?: boolean;
}

export interface LabelPullInput {
  readonly repo: string;
  readonly number: number;
  readonly label: string;
  readonly deliver?: boolean;
}

/**
 * The next `times` API requests matching method and path answer `status` instead.
 * `path` is matched against the path without query: with `regex`, as a regular expression;
 * otherwise literally, where `*` stands for one path segment part and `**` for anything.
 * With `delayMs`, the answer comes only after that long (a slow or hanging GitHub); without
 * `status`, the answer after the delay is the normal one. One of the two must be given. A client
 * that gave up during the delay gets nothing done (the request is recorded with status 499).
 * Rate limits: status 429 (or 403) with headers such as `retry-after` or
 * `x-ratelimit-remaining: 0` and `x-ratelimit-reset` (epoch seconds).
 */
export interface FaultRule {
  readonly method?: string;
  readonly path: string;
  readonly regex?: boolean;
  readonly status?: number;
  readonly delayMs?: number;
  readonly times?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as requested. */
  readonly path: string;
  readonly status: number;
  readonly time: string;
  readonly durationMs: number;
  /** The parsed JSON body of requests that carry one. */
  readonly body?: unknown;
}

export interface PostedStatus {
  readonly state: string;
  readonly description: string | null;
  readonly target_url: string | null;
  readonly context: string;
  readonly created_at: string;
  readonly creator: string;
}

/** Driving the emulator: the same calls in process and over HTTP (`/_emulator/...`). */
export interface EmulatorControl {
  createRepo(input: CreateRepoInput): Promise<{ sha: string }>;
  pushBranch(input: PushBranchInput): Promise<{ sha: string }>;
  setOrgMembers(org: string, members: readonly string[]): Promise<void>;
  openPull(input: OpenPullInput): Promise<OpenPullResult>;
  pushToPull(input: PushToPullInput): Promise<PushToPullResult>;
  closePull(input: ClosePullInput): Promise<{ delivery: WebhookDelivery | null }>;
  addLabel(input: LabelPullInput): Promise<{ delivery: WebhookDelivery | null }>;
  /** A comment on an issue or PR, by anyone; sends `issue_comment` (with `comment.created_at`). */
  addComment(input: AddCommentInput): Promise<AddCommentResult>;
  /** Sends any event to the configured webhook; fails when none is configured. */
  deliver(event: string, payload: unknown): Promise<WebhookDelivery>;
  setWebhook(target: WebhookTarget | null): Promise<void>;
  /** Statuses posted to a commit, oldest first. */
  statuses(repo: string, sha: string): Promise<PostedStatus[]>;
  requests(): Promise<RecordedRequest[]>;
  deliveries(): Promise<WebhookDelivery[]>;
  injectFault(rule: FaultRule): Promise<void>;
  /** Drop every fault rule not used up yet. */
  clearFaults(): Promise<void>;
  /** Resolves once every webhook delivery started so far (e.g. for posted statuses) has ended. */
  idle(): Promise<void>;
}

export interface Emulator extends EmulatorControl {
  /** The API base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** `git clone ${cloneBase}/${repo}` clones a repository (with or without `.git`). */
  readonly cloneBase: string;
  close(): Promise<void>;
}

/** A control call that cannot be done; `status` is what the HTTP control answers. */
export class EmulatorError extends Error {
  override readonly name = "EmulatorError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
