/**
 * GitHub's JSON shapes (REST answers and webhook payloads), built from plain facts. Used by the
 * emulator, and exported so a benchmark or test can make realistic payloads without one.
 * Numeric ids are derived from names, so the same facts always give the same JSON.
 */
import { createHash } from "node:crypto";

/** Where the URLs inside payloads point: the API base, the web base, the git clone base. */
export interface PayloadUrls {
  readonly api: string;
  readonly web: string;
  readonly clone: string;
}

export type Json = Record<string, unknown>;

export interface RepoFacts {
  readonly owner: string;
  readonly name: string;
  readonly ownerType: "User" | "Organization";
  readonly defaultBranch: string;
  readonly private: boolean;
  readonly description: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly pushedAt: string;
  readonly openIssues: number;
  /** Set for a fork of another repository. */
  readonly fork?: boolean;
}

export type AuthorAssociation =
  | "OWNER"
  | "MEMBER"
  | "COLLABORATOR"
  | "CONTRIBUTOR"
  | "FIRST_TIME_CONTRIBUTOR"
  | "FIRST_TIMER"
  | "NONE";

export interface PullFacts {
  readonly number: number;
  readonly title: string;
  readonly body: string | null;
  readonly state: "open" | "closed";
  readonly author: string;
  readonly labels: readonly string[];
  readonly headRef: string;
  readonly headSha: string;
  /** Owner of the repository the head branch lives in: the base repository's owner, or a fork's. */
  readonly headOwner: string;
  readonly baseRef: string;
  readonly baseSha: string;
  readonly draft: boolean;
  readonly authorAssociation: AuthorAssociation;
  readonly commits: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly closedAt: string | null;
}

export interface StatusFacts {
  readonly id: number;
  readonly state: string;
  readonly description: string | null;
  readonly target_url: string | null;
  readonly context: string;
  readonly createdAt: string;
  readonly creator: string;
}

export interface IssueFacts {
  readonly number: number;
  readonly title: string;
  readonly body: string | null;
  readonly state: "open" | "closed";
  readonly author: string;
  readonly labels: readonly string[];
  readonly comments: number;
  readonly authorAssociation: AuthorAssociation;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly closedAt: string | null;
  /** Set when the issue is a pull request, as GitHub's issue API shows those too. */
  readonly pull?: boolean;
}

export interface CommentFacts {
  readonly id: number;
  readonly issue: number;
  readonly body: string;
  readonly author: string;
  readonly authorAssociation: AuthorAssociation;
  readonly createdAt: string;
}

export interface CommitFacts {
  readonly sha: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly message: string;
  readonly authorName: string;
  readonly authorEmail: string;
  readonly date: string;
}

/** A stable positive id for a name, within a kind ("user", "repo", ...). */
export function stableId(kind: string, key: string): number {
  const digest = createHash("sha256").update(`${kind}:${key}`).digest();
  return (digest.readUInt32BE(0) % 900_000_000) + 1_000_000;
}

function nodeId(prefix: string, id: number): string {
  return `${prefix}_${Buffer.from(`0:${id}`).toString("base64url")}`;
}

export function userJson(
  urls: PayloadUrls,
  login: string,
  type: "User" | "Organization" | "Bot" = "User",
): Json {
  const id = stableId("user", login);
  const api = `${urls.api}/users/${login}`;
  return {
    login,
    id,
    node_id: nodeId(type === "Organization" ? "O" : "U", id),
    avatar_url: `${urls.web}/avatars/u/${id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: `${urls.web}/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type,
    user_view_type: "public",
    site_admin: false,
  };
}

export function organizationJson(urls: PayloadUrls, login: string): Json {
  const id = stableId("user", login);
  const api = `${urls.api}/orgs/${login}`;
  return {
    login,
    id,
    node_id: nodeId("O", id),
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `${urls.web}/avatars/u/${id}?v=4`,
    description: null,
  };
}

/** The full repository object of REST answers and webhook payloads. */
export function repositoryJson(urls: PayloadUrls, repo: RepoFacts): Json {
  const fullName = `${repo.owner}/${repo.name}`;
  const api = `${urls.api}/repos/${fullName}`;
  const html = `${urls.web}/${fullName}`;
  return {
    id: stableId("repo", fullName),
    node_id: nodeId("R", stableId("repo", fullName)),
    name: repo.name,
    full_name: fullName,
    private: repo.private,
    owner: userJson(urls, repo.owner, repo.ownerType),
    html_url: html,
    description: repo.description,
    fork: repo.fork ?? false,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: repo.createdAt,
    updated_at: repo.updatedAt,
    pushed_at: repo.pushedAt,
    git_url: `${urls.clone}/${fullName}.git`,
    ssh_url: `${urls.clone}/${fullName}.git`,
    clone_url: `${urls.clone}/${fullName}.git`,
    svn_url: html,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: true,
    has_projects: true,
    has_downloads: true,
    has_wiki: true,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: repo.openIssues,
    license: null,
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: repo.private ? "private" : "public",
    forks: 0,
    open_issues: repo.openIssues,
    watchers: 0,
    default_branch: repo.defaultBranch,
    allow_squash_merge: true,
    allow_merge_commit: true,
    allow_rebase_merge: true,
    allow_auto_merge: false,
    delete_branch_on_merge: false,
    allow_update_branch: false,
    use_squash_pr_title_as_default: false,
    squash_merge_commit_message: "COMMIT_MESSAGES",
    squash_merge_commit_title: "COMMIT_OR_PR_TITLE",
    merge_commit_message: "PR_TITLE",
    merge_commit_title: "MERGE_MESSAGE",
  };
}

export function labelJson(urls: PayloadUrls, repo: string, name: string): Json {
  const id = stableId("label", `${repo}:${name}`);
  return {
    id,
    node_id: nodeId("LA", id),
    url: `${urls.api}/repos/${repo}/labels/${encodeURIComponent(name)}`,
    name,
    color: "ededed",
    default: false,
    description: null,
  };
}

export function pullJson(urls: PayloadUrls, repo: RepoFacts, pull: PullFacts): Json {
  const fullName = `${repo.owner}/${repo.name}`;
  const api = `${urls.api}/repos/${fullName}`;
  const html = `${urls.web}/${fullName}/pull/${pull.number}`;
  const id = stableId("pull", `${fullName}#${pull.number}`);
  const side = (ref: string, sha: string, where: RepoFacts): Json => ({
    label: `${where.owner}:${ref}`,
    ref,
    sha,
    user: userJson(urls, where.owner, where.ownerType),
    repo: repositoryJson(urls, where),
  });
  return {
    url: `${api}/pulls/${pull.number}`,
    id,
    node_id: nodeId("PR", id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userJson(urls, pull.author),
    body: pull.body,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    labels: pull.labels.map((name) => labelJson(urls, fullName, name)),
    milestone: null,
    draft: pull.draft,
    commits_url: `${api}/pulls/${pull.number}/commits`,
    review_comments_url: `${api}/pulls/${pull.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${pull.headSha}`,
    head: side(pull.headRef, pull.headSha, headRepoFacts(repo, pull)),
    base: side(pull.baseRef, pull.baseSha, repo),
    _links: {
      self: { href: `${api}/pulls/${pull.number}` },
      html: { href: html },
      issue: { href: `${api}/issues/${pull.number}` },
      comments: { href: `${api}/issues/${pull.number}/comments` },
      review_comments: { href: `${api}/pulls/${pull.number}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${api}/pulls/${pull.number}/commits` },
      statuses: { href: `${api}/statuses/${pull.headSha}` },
    },
    author_association: pull.authorAssociation,
    auto_merge: null,
    active_lock_reason: null,
    merged: false,
    mergeable: null,
    rebaseable: null,
    mergeable_state: "unknown",
    merged_by: null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: pull.commits,
    additions: 0,
    deletions: 0,
    changed_files: 0,
  };
}

/** The repository a PR's head lives in: the base repository, or the head owner's fork of it. */
export function headRepoFacts(repo: RepoFacts, pull: PullFacts): RepoFacts {
  if (pull.headOwner === repo.owner) return repo;
  return { ...repo, owner: pull.headOwner, ownerType: "User", fork: true, openIssues: 0 };
}

/** A pull request as GitHub's issue API shows it. */
export function pullAsIssue(pull: PullFacts): IssueFacts {
  return {
    number: pull.number,
    title: pull.title,
    body: pull.body,
    state: pull.state,
    author: pull.author,
    labels: pull.labels,
    comments: 0,
    authorAssociation: pull.authorAssociation,
    createdAt: pull.createdAt,
    updatedAt: pull.updatedAt,
    closedAt: pull.closedAt,
    pull: true,
  };
}

export function issueJson(urls: PayloadUrls, repo: string, issue: IssueFacts): Json {
  const api = `${urls.api}/repos/${repo}`;
  const id = stableId("issue", `${repo}#${issue.number}`);
  const html = `${urls.web}/${repo}/${issue.pull ? "pull" : "issues"}/${issue.number}`;
  return {
    url: `${api}/issues/${issue.number}`,
    repository_url: api,
    labels_url: `${api}/issues/${issue.number}/labels{/name}`,
    comments_url: `${api}/issues/${issue.number}/comments`,
    events_url: `${api}/issues/${issue.number}/events`,
    html_url: html,
    id,
    node_id: nodeId(issue.pull ? "PR" : "I", id),
    number: issue.number,
    title: issue.title,
    user: userJson(urls, issue.author),
    labels: issue.labels.map((name) => labelJson(urls, repo, name)),
    state: issue.state,
    locked: false,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: issue.comments,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.closedAt,
    author_association: issue.authorAssociation,
    active_lock_reason: null,
    ...(issue.pull
      ? {
          draft: false,
          pull_request: {
            url: `${api}/pulls/${issue.number}`,
            html_url: html,
            diff_url: `${html}.diff`,
            patch_url: `${html}.patch`,
            merged_at: null,
          },
        }
      : {}),
    body: issue.body,
    timeline_url: `${api}/issues/${issue.number}/timeline`,
    performed_via_github_app: null,
    state_reason: issue.state === "closed" ? "completed" : null,
  };
}

export function commentJson(urls: PayloadUrls, repo: string, comment: CommentFacts): Json {
  const api = `${urls.api}/repos/${repo}`;
  return {
    url: `${api}/issues/comments/${comment.id}`,
    html_url: `${urls.web}/${repo}/issues/${comment.issue}#issuecomment-${comment.id}`,
    issue_url: `${api}/issues/${comment.issue}`,
    id: comment.id,
    node_id: nodeId("IC", comment.id),
    user: userJson(urls, comment.author),
    created_at: comment.createdAt,
    updated_at: comment.createdAt,
    author_association: comment.authorAssociation,
    body: comment.body,
    performed_via_github_app: null,
  };
}

export function statusJson(
  urls: PayloadUrls,
  repo: string,
  sha: string,
  status: StatusFacts,
  withCreator = true,
): Json {
  return {
    url: `${urls.api}/repos/${repo}/statuses/${sha}`,
    avatar_url: `${urls.web}/avatars/u/${stableId("user", status.creator)}?v=4`,
    id: status.id,
    node_id: nodeId("SC", status.id),
    state: status.state,
    description: status.description,
    target_url: status.target_url,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.createdAt,
    ...(withCreator ? { creator: userJson(urls, status.creator) } : {}),
  };
}

export function commitJson(urls: PayloadUrls, repo: string, commit: CommitFacts): Json {
  const api = `${urls.api}/repos/${repo}`;
  const person = { name: commit.authorName, email: commit.authorEmail, date: commit.date };
  return {
    sha: commit.sha,
    node_id: nodeId("C", stableId("commit", commit.sha)),
    commit: {
      author: person,
      committer: person,
      message: commit.message,
      tree: { sha: commit.tree, url: `${api}/git/trees/${commit.tree}` },
      url: `${api}/git/commits/${commit.sha}`,
      comment_count: 0,
      verification: {
        verified: false,
        reason: "unsigned",
        signature: null,
        payload: null,
        verified_at: null,
      },
    },
    url: `${api}/commits/${commit.sha}`,
    html_url: `${urls.web}/${repo}/commit/${commit.sha}`,
    comments_url: `${api}/commits/${commit.sha}/comments`,
    author: null,
    committer: null,
    parents: commit.parents.map((sha) => ({
      sha,
      url: `${api}/commits/${sha}`,
      html_url: `${urls.web}/${repo}/commit/${sha}`,
    })),
  };
}

/** Keys every repository event carries: repository, sender, and organization for org-owned repos. */
function eventBase(urls: PayloadUrls, repo: RepoFacts, sender: string): Json {
  return {
    repository: repositoryJson(urls, repo),
    ...(repo.ownerType === "Organization" ? { organization: organizationJson(urls, repo.owner) } : {}),
    sender: userJson(urls, sender),
  };
}

export interface PullRequestEventInput {
  readonly action: string;
  readonly repo: RepoFacts;
  readonly pull: PullFacts;
  readonly sender: string;
  /** synchronize only: the head before the push. */
  readonly before?: string;
  /** labeled / unlabeled only. */
  readonly label?: string;
}

export function pullRequestEvent(urls: PayloadUrls, input: PullRequestEventInput): Json {
  const fullName = `${input.repo.owner}/${input.repo.name}`;
  return {
    action: input.action,
    number: input.pull.number,
    ...(input.before === undefined ? {} : { before: input.before, after: input.pull.headSha }),
    pull_request: pullJson(urls, input.repo, input.pull),
    ...(input.label === undefined ? {} : { label: labelJson(urls, fullName, input.label) }),
    ...eventBase(urls, input.repo, input.sender),
  };
}

export interface IssueCommentEventInput {
  readonly repo: RepoFacts;
  readonly issue: IssueFacts;
  readonly comment: CommentFacts;
}

/** A new comment on an issue or PR; GitHub's payload carries the comment's created_at. */
export function issueCommentEvent(urls: PayloadUrls, input: IssueCommentEventInput): Json {
  const fullName = `${input.repo.owner}/${input.repo.name}`;
  return {
    action: "created",
    issue: issueJson(urls, fullName, input.issue),
    comment: commentJson(urls, fullName, input.comment),
    ...eventBase(urls, input.repo, input.comment.author),
  };
}

export interface StatusEventInput {
  readonly repo: RepoFacts;
  readonly sha: string;
  readonly status: StatusFacts;
  readonly commit: CommitFacts;
  /** Branches whose tip is the commit. */
  readonly branches: readonly string[];
}

export function statusEvent(urls: PayloadUrls, input: StatusEventInput): Json {
  const fullName = `${input.repo.owner}/${input.repo.name}`;
  const api = `${urls.api}/repos/${fullName}`;
  return {
    id: input.status.id,
    sha: input.sha,
    name: fullName,
    target_url: input.status.target_url,
    avatar_url: `${urls.web}/avatars/u/${stableId("user", input.status.creator)}?v=4`,
    context: input.status.context,
    description: input.status.description,
    state: input.status.state,
    commit: commitJson(urls, fullName, input.commit),
    branches: input.branches.map((name) => ({
      name,
      commit: { sha: input.sha, url: `${api}/commits/${input.sha}` },
      protected: false,
    })),
    created_at: input.status.createdAt,
    updated_at: input.status.createdAt,
    ...eventBase(urls, input.repo, input.status.creator),
  };
}

export interface SamplePullRequestOptions {
  readonly repo?: string;
  readonly number?: number;
  readonly action?: string;
  readonly sha?: string;
  readonly baseSha?: string;
  readonly author?: string;
  readonly title?: string;
  readonly labels?: readonly string[];
  readonly authorAssociation?: AuthorAssociation;
  readonly urls?: PayloadUrls;
}

const SAMPLE_URLS: PayloadUrls = {
  api: "https://api.github.com",
  web: "https://github.com",
  clone: "https://github.com",
};

/** A realistic pull_request event without any emulator, e.g. for a benchmark of the webhook. */
export function samplePullRequestEvent(options: SamplePullRequestOptions = {}): Json {
  const [owner = "example", name = "project"] = (options.repo ?? "example/project").split("/");
  const number = options.number ?? 1;
  const time = "2024-01-01T00:00:00Z";
  const repo: RepoFacts = {
    owner,
    name,
    ownerType: "Organization",
    defaultBranch: "main",
    private: false,
    description: "An example project",
    createdAt: time,
    updatedAt: time,
    pushedAt: time,
    openIssues: 1,
  };
  const pull: PullFacts = {
    number,
    title: options.title ?? `Example change ${number}`,
    body: "Makes an example change.",
    state: "open",
    author: options.author ?? "contributor",
    labels: options.labels ?? [],
    headRef: `change-${number}`,
    headSha: options.sha ?? createHash("sha1").update(`head:${number}`).digest("hex"),
    headOwner: owner,
    baseRef: "main",
    baseSha: options.baseSha ?? createHash("sha1").update("base").digest("hex"),
    draft: false,
    authorAssociation: options.authorAssociation ?? "MEMBER",
    commits: 1,
    createdAt: time,
    updatedAt: time,
    closedAt: null,
  };
  return pullRequestEvent(options.urls ?? SAMPLE_URLS, {
    action: options.action ?? "opened",
    repo,
    pull,
    sender: pull.author,
  });
}
