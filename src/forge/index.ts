/** The forge part: what hangar needs of GitHub, and the factory that picks real or dry-run posting. */
import type { Logger } from "../util/logger.js";
import { DEFAULT_RETRY, GitHubForge, type RetryPolicy } from "./github.js";
import type { HookDeliveries, HookDelivery, HookTarget } from "./hooks.js";
import { OutboxForge, StatusOutbox } from "./outbox.js";
import { type CommitStatus, type Forge, onBranch } from "./types.js";

export {
  DEFAULT_RETRY,
  ForgeError,
  GitHubForge,
  type GitHubForgeOptions,
  type RetryPolicy,
} from "./github.js";
export {
  failedDeliveries,
  type HookDeliveries,
  type HookDelivery,
  type HookTarget,
  hookPath,
} from "./hooks.js";
export {
  isTransient,
  type OutboxEntry,
  OutboxForge,
  type OutboxForgeOptions,
  StatusOutbox,
} from "./outbox.js";
export * from "./types.js";

export interface CreateForgeOptions {
  readonly api: string;
  readonly token?: string | undefined;
  /** false: a dry run that logs each write (status, issue, comment) instead of sending it; reads still happen. */
  readonly post: boolean;
  readonly logger: Logger;
  readonly fetch?: typeof fetch | undefined;
  readonly retry?: RetryPolicy | undefined;
  /** Per-request timeout; overrides the retry policy's. */
  readonly timeoutMs?: number | undefined;
  /** SQLite file of the status outbox; statuses that fail for good are not kept when absent. */
  readonly outbox?: string | undefined;
}

/** The configured forge: also reads webhook deliveries, and must be closed (the outbox's drainer). */
export interface ConfiguredForge extends Forge, HookDeliveries {
  close(): Promise<void>;
}

export function createForge(options: CreateForgeOptions): ConfiguredForge {
  const retry = {
    ...(options.retry ?? DEFAULT_RETRY),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  };
  const github = new GitHubForge({ ...options, retry });
  if (!options.post)
    return new DryRunForge(github, options.logger.child({ part: "forge", dryRun: true }), github);
  if (options.outbox === undefined) return withHooks(github, github, async () => undefined);
  const outboxForge = new OutboxForge(github, new StatusOutbox(options.outbox), {
    logger: options.logger.child({ part: "forge", outbox: true }),
  });
  return withHooks(outboxForge, github, () => outboxForge.close());
}

/** `forge` with the hook reads of `hooks` and a close(). */
function withHooks(forge: Forge, hooks: HookDeliveries, close: () => Promise<void>): ConfiguredForge {
  return {
    getPull: (repo, pull) => forge.getPull(repo, pull),
    listOpenPulls: (repo) => forge.listOpenPulls(repo),
    getStatuses: (repo, sha) => forge.getStatuses(repo, sha),
    postStatus: (repo, sha, status) => forge.postStatus(repo, sha, status),
    readFile: (repo, ref, path) => forge.readFile(repo, ref, path),
    isOrgMember: (org, user) => forge.isOrgMember(org, user),
    isOnBranch: (repo, branch, sha) => onBranch(forge, repo, branch, sha),
    createIssue: (repo, issue) => forge.createIssue(repo, issue),
    comment: (repo, issue, body) => forge.comment(repo, issue, body),
    listHookDeliveries: (hook, since) => hooks.listHookDeliveries(hook, since),
    redeliver: (hook, id) => hooks.redeliver(hook, id),
    close,
  };
}

/** Reads from the real forge; writes only go to the log. */
export class DryRunForge implements ConfiguredForge {
  constructor(
    private readonly reader: Forge,
    private readonly logger: Logger,
    private readonly hooks?: HookDeliveries,
  ) {}

  async listHookDeliveries(hook: HookTarget, since: Date): Promise<HookDelivery[]> {
    return this.hooks ? this.hooks.listHookDeliveries(hook, since) : [];
  }

  async redeliver(hook: HookTarget, id: number): Promise<void> {
    this.logger.info({ hook: { ...hook }, delivery: id }, "would ask GitHub to redeliver");
  }

  async close(): Promise<void> {}

  getPull: Forge["getPull"] = (repo, pull) => this.reader.getPull(repo, pull);
  listOpenPulls: Forge["listOpenPulls"] = (repo) => this.reader.listOpenPulls(repo);
  getStatuses: Forge["getStatuses"] = (repo, sha) => this.reader.getStatuses(repo, sha);
  readFile: Forge["readFile"] = (repo, ref, path) => this.reader.readFile(repo, ref, path);
  isOrgMember: Forge["isOrgMember"] = (org, user) => this.reader.isOrgMember(org, user);
  isOnBranch = (repo: string, branch: string, sha: string) => onBranch(this.reader, repo, branch, sha);

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
