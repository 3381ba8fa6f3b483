/**
 * The emulated GitHub: repositories (backed by bare git repositories), pulls, issues,
 * comments, statuses, org members, and the webhook that hears about changes.
 */
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { commitFiles, git, initBare, resolveCommit, updateRef } from "./git.js";
import {
  type AuthorAssociation,
  type CommentFacts,
  type CommitFacts,
  type IssueFacts,
  issueCommentEvent,
  type PayloadUrls,
  type PullFacts,
  pullAsIssue,
  pullRequestEvent,
  type RepoFacts,
  statusEvent,
} from "./payloads.js";
import {
  type AddCommentInput,
  type AddCommentResult,
  type ClosePullInput,
  type CreateRepoInput,
  EmulatorError,
  type LabelPullInput,
  type OpenPullInput,
  type OpenPullResult,
  type PostedStatus,
  type PushBranchInput,
  type PushToPullInput,
  type PushToPullResult,
} from "./types.js";
import { deliverWebhook, type WebhookDelivery, type WebhookTarget } from "./webhooks.js";

export interface RepoState {
  readonly owner: string;
  readonly name: string;
  readonly fullName: string;
  readonly gitDir: string;
  readonly defaultBranch: string;
  readonly ownerType: "User" | "Organization";
  readonly private: boolean;
  readonly description: string | null;
  readonly createdAt: string;
  updatedAt: string;
  pushedAt: string;
  /** Issues and pulls share one sequence of numbers, as on GitHub. */
  nextNumber: number;
  readonly pulls: Map<number, PullFacts>;
  readonly issues: Map<number, IssueFacts>;
  readonly comments: CommentFacts[];
  readonly statuses: Map<string, StoredStatus[]>;
}

export interface StoredDelivery {
  readonly delivery: WebhookDelivery;
  readonly event: string;
  readonly payload: unknown;
  /** The payload's repository, owner/name, when it has one. */
  readonly repo: string | null;
}

export interface StoredStatus extends PostedStatus {
  readonly id: number;
}

const NAME = /^[\w.-]+$/;
const MAX_RECORDED_DELIVERIES = 10_000;

export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class EmulatorState {
  readonly repos = new Map<string, RepoState>();
  readonly orgs = new Map<string, Set<string>>();
  readonly recordedDeliveries: WebhookDelivery[] = [];
  /** Every attempt with what is needed to send it again, oldest first. */
  readonly hookDeliveries: StoredDelivery[] = [];
  private webhook: WebhookTarget | null;
  private readonly pending = new Set<Promise<unknown>>();
  private lastId = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private statusEvents: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    readonly urls: PayloadUrls,
    readonly user: string,
    webhook: WebhookTarget | null,
  ) {
    this.webhook = webhook;
  }

  /** Runs changes one at a time, so concurrent pushes to one repository cannot race. */
  serialize<T>(change: () => Promise<T>): Promise<T> {
    const result = this.queue.then(change);
    this.queue = result.catch(() => undefined);
    return result;
  }

  nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  setWebhook(target: WebhookTarget | null): void {
    this.webhook = target;
  }

  repo(fullName: string): RepoState {
    const repo = this.repos.get(fullName);
    if (repo === undefined) throw new EmulatorError(404, `no repository ${fullName}`);
    return repo;
  }

  pull(fullName: string, number: number): PullFacts {
    const pull = this.repo(fullName).pulls.get(number);
    if (pull === undefined) throw new EmulatorError(404, `no pull request ${fullName}#${number}`);
    return pull;
  }

  facts(repo: RepoState): RepoFacts {
    const openPulls = [...repo.pulls.values()].filter((pull) => pull.state === "open").length;
    const openIssues = [...repo.issues.values()].filter((issue) => issue.state === "open").length;
    return {
      owner: repo.owner,
      name: repo.name,
      ownerType: repo.ownerType,
      defaultBranch: repo.defaultBranch,
      private: repo.private,
      description: repo.description,
      createdAt: repo.createdAt,
      updatedAt: repo.updatedAt,
      pushedAt: repo.pushedAt,
      openIssues: openPulls + openIssues,
    };
  }

  association(repo: RepoState, login: string): AuthorAssociation {
    if (login === repo.owner) return "OWNER";
    if (this.orgs.get(repo.owner)?.has(login)) return "MEMBER";
    const earlier = [...repo.pulls.values()].some((pull) => pull.author === login);
    return earlier ? "CONTRIBUTOR" : "FIRST_TIME_CONTRIBUTOR";
  }

  async createRepo(input: CreateRepoInput): Promise<{ sha: string }> {
    const [owner, name] = splitRepo(input.repo);
    return this.serialize(async () => {
      const fullName = `${owner}/${name}`;
      const gitDir = join(this.dir, owner, `${name}.git`);
      if (this.repos.has(fullName) || (await exists(gitDir)))
        throw new EmulatorError(409, `repository ${fullName} exists`);
      const defaultBranch = input.defaultBranch ?? "main";
      await mkdir(join(this.dir, owner), { recursive: true });
      await initBare(gitDir, defaultBranch);
      const sha = await commitFiles(
        gitDir,
        null,
        input.files ?? {},
        input.message ?? "Initial commit",
        identity(owner),
      );
      await updateRef(gitDir, `refs/heads/${defaultBranch}`, sha);
      const time = now();
      this.repos.set(fullName, {
        owner,
        name,
        fullName,
        gitDir,
        defaultBranch,
        ownerType: input.ownerType ?? "Organization",
        private: input.private ?? false,
        description: input.description ?? null,
        createdAt: time,
        updatedAt: time,
        pushedAt: time,
        nextNumber: 1,
        pulls: new Map(),
        issues: new Map(),
        comments: [],
        statuses: new Map(),
      });
      return { sha };
    });
  }

  async pushBranch(input: PushBranchInput): Promise<{ sha: string }> {
    return this.serialize(async () => {
      const repo = this.repo(input.repo);
      const current = await resolveCommit(repo.gitDir, `refs/heads/${input.branch}`);
      const from = current ?? (await this.commitOf(repo, input.from ?? repo.defaultBranch));
      const sha = await commitFiles(
        repo.gitDir,
        from,
        input.files,
        input.message ?? `Update ${input.branch}`,
        identity(input.author ?? repo.owner),
      );
      await updateRef(repo.gitDir, `refs/heads/${input.branch}`, sha);
      repo.pushedAt = now();
      return { sha };
    });
  }

  setOrgMembers(org: string, members: readonly string[]): void {
    this.orgs.set(org, new Set(members));
  }

  async openPull(input: OpenPullInput): Promise<OpenPullResult> {
    const opened = await this.serialize(async () => {
      const repo = this.repo(input.repo);
      const author = input.author ?? "contributor";
      const baseRef = input.base ?? repo.defaultBranch;
      const baseSha = await this.commitOf(repo, baseRef);
      const number = repo.nextNumber;
      const branch = input.branch ?? `pr-${number}`;
      const headOwner = input.fork ?? repo.owner;
      if (!NAME.test(headOwner))
        throw new EmulatorError(422, `invalid fork owner ${JSON.stringify(headOwner)}`);
      const inBase = headOwner === repo.owner;
      if (inBase && (await resolveCommit(repo.gitDir, `refs/heads/${branch}`)))
        throw new EmulatorError(422, `branch ${branch} exists`);
      const title = input.title ?? `Pull request ${number}`;
      const sha = await commitFiles(
        repo.gitDir,
        baseSha,
        input.files,
        input.message ?? title,
        identity(author),
      );
      // A fork's branch is no branch of the base repository; only the pull ref holds its commits.
      if (inBase) await updateRef(repo.gitDir, `refs/heads/${branch}`, sha);
      await updateRef(repo.gitDir, `refs/pull/${number}/head`, sha);
      repo.nextNumber += 1;
      const time = now();
      const pull = {
        number,
        title,
        body: input.body ?? null,
        state: "open" as const,
        author,
        labels: [...(input.labels ?? [])],
        headRef: branch,
        headSha: sha,
        headOwner,
        baseRef,
        baseSha,
        draft: input.draft ?? false,
        authorAssociation: input.authorAssociation ?? this.association(repo, author),
        commits: 1,
        createdAt: time,
        updatedAt: time,
        closedAt: null,
      };
      repo.pulls.set(number, pull);
      repo.pushedAt = time;
      return { repo, pull };
    });
    const delivery = await this.pullEvent(input.deliver, "opened", opened.repo, opened.pull);
    return {
      number: opened.pull.number,
      sha: opened.pull.headSha,
      baseSha: opened.pull.baseSha,
      branch: opened.pull.headRef,
      delivery,
    };
  }

  async pushToPull(input: PushToPullInput): Promise<PushToPullResult> {
    const pushed = await this.serialize(async () => {
      const repo = this.repo(input.repo);
      const pull = this.pull(input.repo, input.number);
      const before = pull.headSha;
      const sha = await commitFiles(
        repo.gitDir,
        before,
        input.files,
        input.message ?? `Update ${pull.title}`,
        identity(pull.author),
      );
      if (pull.headOwner === repo.owner) await updateRef(repo.gitDir, `refs/heads/${pull.headRef}`, sha);
      await updateRef(repo.gitDir, `refs/pull/${pull.number}/head`, sha);
      const time = now();
      const updated = { ...pull, headSha: sha, commits: pull.commits + 1, updatedAt: time };
      repo.pulls.set(pull.number, updated);
      repo.pushedAt = time;
      return { repo, pull: updated, before };
    });
    const delivery = await this.pullEvent(input.deliver, "synchronize", pushed.repo, pushed.pull, {
      before: pushed.before,
    });
    return { sha: pushed.pull.headSha, before: pushed.before, delivery };
  }

  async closePull(input: ClosePullInput): Promise<{ delivery: WebhookDelivery | null }> {
    const repo = this.repo(input.repo);
    const pull = this.pull(input.repo, input.number);
    const time = now();
    const closed = { ...pull, state: "closed" as const, closedAt: time, updatedAt: time };
    repo.pulls.set(pull.number, closed);
    return { delivery: await this.pullEvent(input.deliver, "closed", repo, closed) };
  }

  async addLabel(input: LabelPullInput): Promise<{ delivery: WebhookDelivery | null }> {
    const repo = this.repo(input.repo);
    const pull = this.pull(input.repo, input.number);
    const labels = pull.labels.includes(input.label) ? pull.labels : [...pull.labels, input.label];
    const labeled = { ...pull, labels, updatedAt: now() };
    repo.pulls.set(pull.number, labeled);
    return {
      delivery: await this.pullEvent(input.deliver, "labeled", repo, labeled, { label: input.label }),
    };
  }

  /** A comment on an issue or PR by `author`; GitHub sends an `issue_comment` event for it. */
  async addComment(input: AddCommentInput): Promise<AddCommentResult> {
    const repo = this.repo(input.repo);
    const pull = repo.pulls.get(input.number);
    const issue = pull === undefined ? repo.issues.get(input.number) : pullAsIssue(pull);
    if (issue === undefined)
      throw new EmulatorError(404, `no issue or pull request ${repo.fullName}#${input.number}`);
    if (input.body === "") throw new EmulatorError(422, "a comment needs a body");
    const comment: CommentFacts = {
      id: this.nextId(),
      issue: input.number,
      body: input.body,
      author: input.author,
      authorAssociation: this.association(repo, input.author),
      createdAt: now(),
    };
    repo.comments.push(comment);
    const comments = repo.comments.filter((each) => each.issue === input.number).length;
    const event = issueCommentEvent(this.urls, {
      repo: this.facts(repo),
      issue: { ...issue, comments },
      comment,
    });
    const delivery =
      input.deliver === false || this.webhook === null ? null : await this.deliver("issue_comment", event);
    return { id: comment.id, createdAt: comment.createdAt, event, delivery };
  }

  async deliver(event: string, payload: unknown): Promise<WebhookDelivery> {
    const target = this.webhook;
    if (target === null) throw new EmulatorError(409, "no webhook is configured");
    return this.record(event, payload, false, await deliverWebhook(target, event, payload));
  }

  /** Sends an earlier delivery again (same GUID, signed anew), as GitHub's redelivery does. */
  async redeliver(attempt: number): Promise<WebhookDelivery> {
    const target = this.webhook;
    if (target === null) throw new EmulatorError(409, "no webhook is configured");
    const earlier = this.hookDeliveries.find((stored) => stored.delivery.attempt === attempt);
    if (earlier === undefined) throw new EmulatorError(404, `no delivery ${attempt}`);
    const { event, payload } = earlier;
    const sent = await deliverWebhook(target, event, payload, earlier.delivery.id);
    return this.record(event, payload, true, sent);
  }

  /** Checks the attempt exists, then redelivers it in the background (GitHub answers 202 at once). */
  startRedelivery(attempt: number): void {
    if (this.webhook === null) throw new EmulatorError(409, "no webhook is configured");
    if (!this.hookDeliveries.some((stored) => stored.delivery.attempt === attempt)) {
      throw new EmulatorError(404, `no delivery ${attempt}`);
    }
    this.background(this.redeliver(attempt).catch(() => undefined));
  }

  private record(
    event: string,
    payload: unknown,
    redelivery: boolean,
    sent: WebhookDelivery,
  ): WebhookDelivery {
    const delivery: WebhookDelivery = { ...sent, attempt: this.nextId(), redelivery };
    const repository = (payload as { repository?: { full_name?: unknown } } | null)?.repository?.full_name;
    this.recordedDeliveries.push(delivery);
    this.hookDeliveries.push({
      delivery,
      event,
      payload,
      repo: typeof repository === "string" ? repository : null,
    });
    if (this.recordedDeliveries.length > MAX_RECORDED_DELIVERIES) this.recordedDeliveries.shift();
    if (this.hookDeliveries.length > MAX_RECORDED_DELIVERIES) this.hookDeliveries.shift();
    return delivery;
  }

  /** Records a status; GitHub then sends a `status` event, here in the background and in posting order. */
  postStatus(repo: RepoState, sha: string, status: StoredStatus): void {
    const list = repo.statuses.get(sha) ?? [];
    list.push(status);
    repo.statuses.set(sha, list);
    if (this.webhook === null) return;
    const facts = this.facts(repo);
    const send = this.statusEvents
      .then(async () => {
        const commit = await commitFacts(repo.gitDir, sha);
        const refs = await git(repo.gitDir, [
          "for-each-ref",
          "--points-at",
          sha,
          "--format=%(refname:short)",
          "refs/heads",
        ]);
        const branches = refs.split("\n").filter(Boolean);
        const payload = statusEvent(this.urls, {
          repo: facts,
          sha,
          status: { ...status, createdAt: status.created_at },
          commit,
          branches,
        });
        await this.deliver("status", payload);
      })
      .catch(() => undefined);
    this.statusEvents = send;
    this.background(send);
  }

  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private background(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async pullEvent(
    deliver: boolean | undefined,
    action: string,
    repo: RepoState,
    pull: PullFacts,
    extra: { before?: string; label?: string } = {},
  ): Promise<WebhookDelivery | null> {
    if (deliver === false || this.webhook === null) return null;
    const payload = pullRequestEvent(this.urls, {
      action,
      repo: this.facts(repo),
      pull,
      sender: pull.author,
      ...extra,
    });
    return this.deliver("pull_request", payload);
  }

  private async commitOf(repo: RepoState, ref: string): Promise<string> {
    const sha = await resolveCommit(repo.gitDir, ref);
    if (sha === null) throw new EmulatorError(422, `${repo.fullName} has no ref ${ref}`);
    return sha;
  }
}

export async function commitFacts(gitDir: string, sha: string): Promise<CommitFacts> {
  const out = await git(gitDir, ["show", "-s", "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%B", sha]);
  const [full = sha, tree = "", parents = "", authorName = "", authorEmail = "", date = "", message = ""] =
    out.split("\0");
  return {
    sha: full,
    tree,
    parents: parents.split(" ").filter(Boolean),
    authorName,
    authorEmail,
    date: new Date(date).toISOString().replace(/\.\d{3}Z$/, "Z"),
    message: message.replace(/\n+$/, ""),
  };
}

export function splitRepo(repo: string): [string, string] {
  const parts = repo.split("/");
  const [owner, name] = parts;
  if (
    parts.length !== 2 ||
    owner === undefined ||
    name === undefined ||
    !NAME.test(owner) ||
    !NAME.test(name) ||
    name.endsWith(".git")
  ) {
    throw new EmulatorError(422, `expected a repository as owner/name, got ${JSON.stringify(repo)}`);
  }
  return [owner, name];
}

function identity(login: string): { name: string; email: string } {
  return { name: login, email: `${login}@users.noreply.github.com` };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
