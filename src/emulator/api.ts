/** The GitHub REST endpoints hangar uses, answered from the emulator's state. */
import { appRoutes } from "./app.js";
import { checkRoutes } from "./checks.js";
import { compareCommits, readPath, resolveCommit, type TreeEntry } from "./git.js";
import {
  bodyObject,
  HttpError,
  notFound,
  paginate,
  type Reply,
  type RequestContext,
  type Route,
  route,
  validationFailed,
} from "./http.js";
import {
  commentJson,
  commitJson,
  type IssueFacts,
  issueJson,
  pullAsIssue,
  pullJson,
  repositoryJson,
  statusJson,
  userJson,
} from "./payloads.js";
import { commitFacts, type EmulatorState, now, type RepoState, type StoredStatus } from "./state.js";

const MAX_DESCRIPTION = 140;
const STATES = ["pending", "success", "failure", "error"];
const REPO = "/repos/([^/]+)/([^/]+)";

export function apiRoutes(state: EmulatorState): Route[] {
  const repoOf = (context: RequestContext): RepoState => {
    const repo = state.repos.get(`${context.params[0]}/${context.params[1]}`);
    if (repo === undefined) throw notFound();
    return repo;
  };
  const urls = state.urls;
  const ok = (body: unknown, headers: Record<string, string> = {}): Reply => ({ status: 200, body, headers });
  const page = <T>(context: RequestContext, items: readonly T[], map: (item: T) => unknown): Reply => {
    const { items: slice, headers } = paginate(context.url, items);
    return ok(slice.map(map), headers);
  };

  const issueFacts = (repo: RepoState, number: number): IssueFacts => {
    const comments = repo.comments.filter((comment) => comment.issue === number).length;
    const pull = repo.pulls.get(number);
    if (pull !== undefined) return { ...pullAsIssue(pull), comments };
    const issue = repo.issues.get(number);
    if (issue === undefined) throw notFound();
    return { ...issue, comments };
  };

  return [
    ...appRoutes(state),
    ...checkRoutes(state),
    route("GET", /^\/user$/, () => ok(userJson(urls, state.user))),

    route("GET", new RegExp(`^${REPO}$`), (context) => {
      const repo = repoOf(context);
      return ok({
        ...repositoryJson(urls, state.facts(repo)),
        permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
        network_count: 0,
        subscribers_count: 0,
      });
    }),

    route("GET", new RegExp(`^${REPO}/pulls$`), (context) => {
      const repo = repoOf(context);
      const wanted = context.url.searchParams.get("state") ?? "open";
      const pulls = [...repo.pulls.values()]
        .filter((pull) => wanted === "all" || pull.state === wanted)
        .sort((a, b) => b.number - a.number);
      return page(context, pulls, (pull) => pullJson(urls, state.facts(repo), pull));
    }),

    route("GET", new RegExp(`^${REPO}/pulls/(\\d+)$`), (context) => {
      const repo = repoOf(context);
      const pull = repo.pulls.get(Number(context.params[2]));
      if (pull === undefined) throw notFound();
      return ok(pullJson(urls, state.facts(repo), pull));
    }),

    route("GET", new RegExp(`^${REPO}/commits/(.+)/status$`), async (context) => {
      const repo = repoOf(context);
      const sha = await commitOrNotFound(repo, context.params[2] ?? "");
      const latest = new Map<string, StoredStatus>();
      for (const status of [...(repo.statuses.get(sha) ?? [])].reverse()) {
        if (!latest.has(status.context)) latest.set(status.context, status);
      }
      const statuses = [...latest.values()];
      const { items, headers } = paginate(context.url, statuses);
      const api = `${urls.api}/repos/${repo.fullName}`;
      return ok(
        {
          state: combinedState(statuses.map((status) => status.state)),
          statuses: items.map((status) => statusJson(urls, repo.fullName, sha, facts(status), false)),
          sha,
          total_count: statuses.length,
          repository: repositoryJson(urls, state.facts(repo)),
          commit_url: `${api}/commits/${sha}`,
          url: `${api}/commits/${sha}/status`,
        },
        headers,
      );
    }),

    route("GET", new RegExp(`^${REPO}/commits/(.+)/statuses$`), async (context) => {
      const repo = repoOf(context);
      const sha = await commitOrNotFound(repo, context.params[2] ?? "");
      const newestFirst = [...(repo.statuses.get(sha) ?? [])].reverse();
      return page(context, newestFirst, (status) => statusJson(urls, repo.fullName, sha, facts(status)));
    }),

    route("GET", new RegExp(`^${REPO}/compare/(.+)$`), async (context) => {
      const repo = repoOf(context);
      const basehead = context.params[2] ?? "";
      const at = basehead.indexOf("...");
      if (at <= 0) throw notFound();
      const base = await resolveCommit(repo.gitDir, basehead.slice(0, at));
      const head = await resolveCommit(repo.gitDir, basehead.slice(at + 3));
      if (base === null || head === null) throw notFound();
      const { mergeBase, ahead, behindBy } = await compareCommits(repo.gitDir, base, head);
      if (mergeBase === null) throw notFound();
      const commit = async (sha: string) =>
        commitJson(urls, repo.fullName, await commitFacts(repo.gitDir, sha));
      const { items, headers } = paginate(context.url, ahead);
      const api = `${urls.api}/repos/${repo.fullName}`;
      const web = `${urls.web}/${repo.fullName}`;
      return ok(
        {
          url: `${api}/compare/${basehead}`,
          html_url: `${web}/compare/${basehead}`,
          permalink_url: `${web}/compare/${repo.owner}:${base}...${repo.owner}:${head}`,
          diff_url: `${web}/compare/${basehead}.diff`,
          patch_url: `${web}/compare/${basehead}.patch`,
          base_commit: await commit(base),
          merge_base_commit: await commit(mergeBase),
          status: compareStatus(ahead.length, behindBy),
          ahead_by: ahead.length,
          behind_by: behindBy,
          total_commits: ahead.length,
          commits: await Promise.all(items.map(commit)),
          files: [],
        },
        headers,
      );
    }),

    route("POST", new RegExp(`^${REPO}/statuses/([^/]+)$`), async (context) => {
      const repo = repoOf(context);
      const body = bodyObject(context.body);
      const { state: statusState, description, target_url, context: statusContext } = body;
      if (typeof statusState !== "string" || !STATES.includes(statusState)) {
        throw validationFailed("Status", "state", `state is not included in the list`);
      }
      if (description != null && typeof description !== "string")
        throw validationFailed("Status", "description", "description is invalid");
      if (typeof description === "string" && description.length > MAX_DESCRIPTION) {
        throw validationFailed(
          "Status",
          "description",
          `description is too long (maximum is ${MAX_DESCRIPTION} characters)`,
        );
      }
      if (target_url != null && typeof target_url !== "string")
        throw validationFailed("Status", "target_url", "target_url is invalid");
      if (statusContext != null && typeof statusContext !== "string")
        throw validationFailed("Status", "context", "context is invalid");
      const requested = context.params[2] ?? "";
      const sha = /^[0-9a-f]{4,40}$/i.test(requested) ? await resolveCommit(repo.gitDir, requested) : null;
      if (sha === null) throw new HttpError(422, `No commit found for SHA: ${requested}`);
      const status: StoredStatus = {
        id: state.nextId(),
        state: statusState,
        description: typeof description === "string" ? description : null,
        target_url: typeof target_url === "string" ? target_url : null,
        context: typeof statusContext === "string" && statusContext !== "" ? statusContext : "default",
        created_at: now(),
        creator: state.user,
      };
      state.postStatus(repo, sha, status);
      return { status: 201, body: statusJson(urls, repo.fullName, sha, facts(status)) };
    }),

    route("GET", new RegExp(`^${REPO}/contents(?:/(.*))?$`), async (context) => {
      const repo = repoOf(context);
      const ref = context.url.searchParams.get("ref") ?? repo.defaultBranch;
      const commit = await resolveCommit(repo.gitDir, ref);
      if (commit === null) throw new HttpError(404, `No commit found for the ref ${ref}`);
      const path = context.params[2] ?? "";
      const found = await readPath(repo.gitDir, commit, path);
      if (found === null) throw notFound();
      const entryJson = (entry: TreeEntry): Record<string, unknown> =>
        contentEntry(urls.api, urls.web, repo.fullName, ref, entry);
      if (found.kind === "dir") return ok(found.entries.map(entryJson));
      if (/raw/.test(String(context.headers.accept ?? ""))) {
        return { status: 200, raw: { data: found.content, contentType: "text/plain; charset=utf-8" } };
      }
      const base64 = found.content.toString("base64").replace(/.{60}/g, "$&\n");
      return ok({ ...entryJson(found.entry), content: base64, encoding: "base64" });
    }),

    route("GET", /^\/orgs\/([^/]+)\/members$/, (context) => {
      const members = [...(state.orgs.get(context.params[0] ?? "") ?? [])].sort();
      return page(context, members, (login) => userJson(urls, login));
    }),

    route("GET", /^\/orgs\/([^/]+)\/members\/([^/]+)$/, (context) => {
      const member = state.orgs.get(context.params[0] ?? "")?.has(context.params[1] ?? "") ?? false;
      if (!member) throw new HttpError(404, "User does not exist or is not a member of the organization");
      return { status: 204 };
    }),

    route("GET", new RegExp(`^${REPO}/issues$`), (context) => {
      const repo = repoOf(context);
      const wanted = context.url.searchParams.get("state") ?? "open";
      const labels = (context.url.searchParams.get("labels") ?? "").split(",").filter(Boolean);
      const creator = context.url.searchParams.get("creator");
      const numbers = [...repo.issues.keys(), ...repo.pulls.keys()].sort((a, b) => b - a);
      const issues = numbers
        .map((number) => issueFacts(repo, number))
        .filter((issue) => wanted === "all" || issue.state === wanted)
        .filter((issue) => labels.every((label) => issue.labels.includes(label)))
        .filter((issue) => creator === null || issue.author === creator);
      return page(context, issues, (issue) => issueJson(urls, repo.fullName, issue));
    }),

    route("POST", new RegExp(`^${REPO}/issues$`), (context) => {
      const repo = repoOf(context);
      const body = bodyObject(context.body);
      if (typeof body.title !== "string" || body.title === "")
        throw validationFailed("Issue", "title", "title wasn't supplied");
      const time = now();
      const issue: IssueFacts = {
        number: repo.nextNumber,
        title: body.title,
        body: typeof body.body === "string" ? body.body : null,
        state: "open",
        author: state.user,
        labels: labelNames(body.labels),
        comments: 0,
        authorAssociation: state.association(repo, state.user),
        createdAt: time,
        updatedAt: time,
        closedAt: null,
      };
      repo.nextNumber += 1;
      repo.issues.set(issue.number, issue);
      return { status: 201, body: issueJson(urls, repo.fullName, issue) };
    }),

    route("GET", new RegExp(`^${REPO}/issues/(\\d+)$`), (context) => {
      const repo = repoOf(context);
      return ok(issueJson(urls, repo.fullName, issueFacts(repo, Number(context.params[2]))));
    }),

    route("PATCH", new RegExp(`^${REPO}/issues/(\\d+)$`), (context) => {
      const repo = repoOf(context);
      const number = Number(context.params[2]);
      const current = issueFacts(repo, number);
      const body = bodyObject(context.body);
      if (body.state !== undefined && body.state !== "open" && body.state !== "closed") {
        throw validationFailed("Issue", "state", "state is not included in the list");
      }
      const time = now();
      const nextState = (body.state as "open" | "closed" | undefined) ?? current.state;
      const changes = {
        title: typeof body.title === "string" ? body.title : current.title,
        body: typeof body.body === "string" ? body.body : current.body,
        state: nextState,
        labels: body.labels === undefined ? current.labels : labelNames(body.labels),
        updatedAt: time,
        closedAt: nextState === "closed" ? (current.closedAt ?? time) : null,
      };
      const pull = repo.pulls.get(number);
      if (pull !== undefined) repo.pulls.set(number, { ...pull, ...changes });
      else repo.issues.set(number, { ...current, ...changes });
      return ok(issueJson(urls, repo.fullName, issueFacts(repo, number)));
    }),

    route("GET", new RegExp(`^${REPO}/issues/(\\d+)/comments$`), (context) => {
      const repo = repoOf(context);
      const number = Number(context.params[2]);
      issueFacts(repo, number);
      const comments = repo.comments.filter((comment) => comment.issue === number);
      return page(context, comments, (comment) => commentJson(urls, repo.fullName, comment));
    }),

    route("POST", new RegExp(`^${REPO}/issues/(\\d+)/comments$`), (context) => {
      const repo = repoOf(context);
      const number = Number(context.params[2]);
      issueFacts(repo, number);
      const body = bodyObject(context.body);
      if (typeof body.body !== "string" || body.body === "")
        throw validationFailed("IssueComment", "body", "body wasn't supplied");
      const comment = {
        id: state.nextId(),
        issue: number,
        body: body.body,
        author: state.user,
        authorAssociation: state.association(repo, state.user),
        createdAt: now(),
      };
      repo.comments.push(comment);
      return { status: 201, body: commentJson(urls, repo.fullName, comment) };
    }),
  ];
}

async function commitOrNotFound(repo: RepoState, ref: string): Promise<string> {
  const sha = await resolveCommit(repo.gitDir, ref);
  if (sha === null) throw new HttpError(422, `No commit found for SHA: ${ref}`);
  return sha;
}

function compareStatus(aheadBy: number, behindBy: number): string {
  if (aheadBy === 0) return behindBy === 0 ? "identical" : "behind";
  return behindBy === 0 ? "ahead" : "diverged";
}

function combinedState(states: readonly string[]): string {
  if (states.some((s) => s === "failure" || s === "error")) return "failure";
  if (states.length === 0 || states.includes("pending")) return "pending";
  return "success";
}

function facts(status: StoredStatus): StoredStatus & { createdAt: string } {
  return { ...status, createdAt: status.created_at };
}

function labelNames(labels: unknown): string[] {
  if (labels === undefined || labels === null) return [];
  if (!Array.isArray(labels)) throw validationFailed("Issue", "labels", "labels must be an array");
  return labels.map((label: unknown) => {
    if (typeof label === "string") return label;
    const name = (label as { name?: unknown } | null)?.name;
    if (typeof name === "string") return name;
    throw validationFailed("Label", "name", "label is invalid");
  });
}

function contentEntry(
  api: string,
  web: string,
  repo: string,
  ref: string,
  entry: TreeEntry,
): Record<string, unknown> {
  const name = entry.path.slice(entry.path.lastIndexOf("/") + 1);
  const self = `${api}/repos/${repo}/contents/${entry.path}?ref=${encodeURIComponent(ref)}`;
  const isFile = entry.type === "blob";
  const git = `${api}/repos/${repo}/git/${isFile ? "blobs" : "trees"}/${entry.sha}`;
  const html = `${web}/${repo}/${isFile ? "blob" : "tree"}/${ref}/${entry.path}`;
  return {
    type: isFile ? (entry.mode === "120000" ? "symlink" : "file") : "dir",
    size: entry.size,
    name,
    path: entry.path,
    sha: entry.sha,
    url: self,
    git_url: git,
    html_url: html,
    download_url: isFile ? `${web}/${repo}/raw/${ref}/${entry.path}` : null,
    _links: { self, git, html },
  };
}
