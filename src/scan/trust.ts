/**
 * The trust policy: whose code runs automatically and may see secrets, and which commit a
 * direct trigger or a re-run may run trusted. Every decision fails closed: what cannot be
 * shown to be trusted runs untrusted (or not at all), and a forge that cannot answer makes
 * the decision wait (TrustUndecidedError, so the scan entry is retried), never "trusted".
 */
import type { HangarConfig } from "../config/index.js";
import type { Forge, PullRequest } from "../forge/types.js";
import { errorMessage } from "../util/errors.js";
import { MANUAL_BRANCH } from "./testmap.js";

/** The forge could not answer while trust was decided: try the whole event again later. */
export class TrustUndecidedError extends Error {
  override readonly name = "TrustUndecidedError";
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export async function isTrustedAuthor(config: HangarConfig, forge: Forge, author: string): Promise<boolean> {
  const { users, orgs } = config.trust;
  if (users.some((user) => same(user, author))) return true;
  for (const org of orgs) {
    if (await forge.isOrgMember(org, author)) return true;
  }
  return false;
}

/** An owner of a fork: a trusted user, a member of a trusted org, or a trusted org itself. */
async function isTrustedOwner(config: HangarConfig, forge: Forge, owner: string): Promise<boolean> {
  if (config.trust.orgs.some((org) => same(org, owner))) return true;
  return isTrustedAuthor(config, forge, owner);
}

/** Where a PR's code comes from. */
export interface PullOrigin {
  readonly repo: string;
  readonly author: string;
  /** Owner of the repository holding the head branch; null when that repository is gone. */
  readonly headOwner: string | null;
}

/**
 * A PR runs trusted when its author is trusted and whoever can push to its head branch is too:
 * the head is a branch of the base repository, or of the author's own fork, or of a fork whose
 * owner is trusted. A trusted author's PR from a stranger's fork is not trusted: the stranger
 * can push to that branch at any time, after the PR was opened.
 */
export async function isTrustedPull(config: HangarConfig, forge: Forge, pull: PullOrigin): Promise<boolean> {
  if (!(await isTrustedAuthor(config, forge, pull.author))) return false;
  const { headOwner } = pull;
  if (headOwner === null) return false;
  const baseOwner = pull.repo.slice(0, pull.repo.indexOf("/"));
  if (same(headOwner, baseOwner) || same(headOwner, pull.author)) return true;
  return isTrustedOwner(config, forge, headOwner);
}

/** What a direct trigger or re-run of one commit may do. */
export type CommitTrust =
  | {
      readonly run: true;
      readonly trusted: boolean;
      /** The open PR whose head the commit is, if any. */
      readonly pull: PullRequest | null;
      /** The branch the contexts come from (the PR's base, or the branch holding the commit). */
      readonly baseBranch: string | null;
      readonly reason: string;
    }
  | { readonly run: false; readonly reason: string };

interface Candidates {
  /** Open PRs whose head is the commit. */
  readonly heads: readonly PullRequest[];
  /** Named PRs whose head is not the commit, or that are closed. */
  readonly others: readonly PullRequest[];
  /** Named PRs the forge does not know. */
  readonly missing: readonly number[];
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { status?: unknown }).status === 404;
}

/** The PRs a trigger names (or, when it names none, the open PRs with that head). */
async function candidatePulls(
  forge: Forge,
  repo: string,
  sha: string,
  named: readonly number[],
): Promise<Candidates> {
  if (named.length === 0) {
    const open = await forge.listOpenPulls(repo);
    return { heads: open.filter((pull) => pull.headSha === sha), others: [], missing: [] };
  }
  const found: PullRequest[] = [];
  const missing: number[] = [];
  for (const number of new Set(named)) {
    try {
      found.push(await forge.getPull(repo, number));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      missing.push(number);
    }
  }
  const isHead = (pull: PullRequest) => pull.state === "open" && pull.headSha === sha;
  return { heads: found.filter(isHead), others: found.filter((pull) => !isHead(pull)), missing };
}

/**
 * The first branch of the test map (preferred first) that holds the commit. Only the branches
 * hangar tests count, not every branch of the repository: those are the reviewed ones.
 */
async function branchHolding(
  config: HangarConfig,
  forge: Forge,
  repo: string,
  sha: string,
  preferred: string | null,
): Promise<string | null> {
  const tested = Object.keys(config.projects[repo]?.branches ?? {}).filter((b) => b !== MANUAL_BRANCH);
  const ordered = preferred !== null && tested.includes(preferred) ? [preferred, ...tested] : tested;
  for (const branch of new Set(ordered)) {
    if (await forge.isOnBranch?.(repo, branch, sha)) return branch;
  }
  return null;
}

async function decide(
  config: HangarConfig,
  forge: Forge,
  repo: string,
  sha: string,
  named: readonly number[],
): Promise<CommitTrust> {
  const short = sha.slice(0, 8);
  const { heads, others, missing } = await candidatePulls(forge, repo, sha, named);
  for (const pull of heads) {
    if (await isTrustedPull(config, forge, pull)) {
      return { run: true, trusted: true, pull, baseBranch: pull.baseRef, reason: `head of #${pull.number}` };
    }
  }
  const pull = heads[0] ?? null;
  const other = others[0];
  const branch = await branchHolding(config, forge, repo, sha, pull?.baseRef ?? other?.baseRef ?? null);
  if (branch !== null) {
    return { run: true, trusted: true, pull, baseBranch: pull?.baseRef ?? branch, reason: `on ${branch}` };
  }
  if (pull !== null) {
    const reason = `#${pull.number} is by an untrusted author or from an untrusted fork`;
    return { run: true, trusted: false, pull, baseBranch: pull.baseRef, reason };
  }
  const closed = others.find((each) => each.state === "closed");
  if (closed !== undefined) {
    return { run: false, reason: `pull #${closed.number} is closed and ${short} is on no tested branch` };
  }
  const why =
    other !== undefined
      ? `${short} is no longer the head of #${other.number}`
      : missing.length > 0
        ? `pull #${missing.join(", #")} does not exist`
        : `${short} is the head of no open pull request`;
  return {
    run: true,
    trusted: false,
    pull: null,
    baseBranch: other?.baseRef ?? null,
    reason: `${why} and on no tested branch`,
  };
}

/**
 * Whether a direct trigger or re-run of `sha` runs trusted. It is trusted only as the head of
 * an open PR that `isTrustedPull` trusts (of the PRs the event names, or of all open PRs when
 * it names none), or when a branch of the test map holds it. A named PR that is closed, with
 * the commit on no tested branch, runs nothing. Forge failures throw TrustUndecidedError.
 */
export async function decideCommitTrust(
  config: HangarConfig,
  forge: Forge,
  repo: string,
  sha: string,
  named: readonly number[],
): Promise<CommitTrust> {
  try {
    return await decide(config, forge, repo, sha, named);
  } catch (error) {
    throw new TrustUndecidedError(
      `cannot decide whether ${repo}@${sha.slice(0, 8)} is trusted, trying again later: ${errorMessage(error)}`,
      { cause: error },
    );
  }
}
