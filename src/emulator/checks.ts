/**
 * The Checks API in the emulator: check runs created and updated by an app (an
 * installation token is required, as on GitHub), listed per commit, and
 * "Re-run" (POST .../rerequest), which sends a `check_run` `rerequested` event.
 */

import { installationOf } from "./app.js";
import { resolveCommit } from "./git.js";
import {
  bodyObject,
  HttpError,
  notFound,
  paginate,
  type RequestContext,
  type Route,
  route,
  validationFailed,
} from "./http.js";
import { repositoryJson, stableId, userJson } from "./payloads.js";
import { type EmulatorState, now, type RepoState } from "./state.js";

type CheckStatus = "queued" | "in_progress" | "completed";
const STATUSES: readonly string[] = ["queued", "in_progress", "completed"] satisfies CheckStatus[];
const CONCLUSIONS = ["success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"];
const MAX_SUMMARY = 65535;

interface CheckRun {
  readonly id: number;
  readonly appId: number;
  readonly installationId: number;
  readonly headSha: string;
  name: string;
  externalId: string | null;
  detailsUrl: string | null;
  status: CheckStatus;
  conclusion: string | null;
  startedAt: string;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
}

const runsByState = new WeakMap<EmulatorState, Map<string, CheckRun[]>>();

function runsOf(state: EmulatorState, repo: string): CheckRun[] {
  let repos = runsByState.get(state);
  if (repos === undefined) {
    repos = new Map();
    runsByState.set(state, repos);
  }
  let runs = repos.get(repo);
  if (runs === undefined) {
    runs = [];
    repos.set(repo, runs);
  }
  return runs;
}

function optionalString(body: Record<string, unknown>, field: string): string | null | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (value !== null && typeof value !== "string")
    throw validationFailed("CheckRun", field, `${field} is invalid`);
  return value;
}

/** Applies the writable fields of a create or update body to a run. */
function applyFields(run: CheckRun, body: Record<string, unknown>): void {
  const name = optionalString(body, "name");
  if (typeof name === "string" && name !== "") run.name = name;
  const external = optionalString(body, "external_id");
  if (external !== undefined) run.externalId = external;
  const details = optionalString(body, "details_url");
  if (details !== undefined) run.detailsUrl = details;
  if (body.status !== undefined) {
    if (typeof body.status !== "string" || !STATUSES.includes(body.status))
      throw validationFailed("CheckRun", "status", "status is not included in the list");
    run.status = body.status as CheckStatus;
  }
  if (body.conclusion !== undefined && body.conclusion !== null) {
    if (typeof body.conclusion !== "string" || !CONCLUSIONS.includes(body.conclusion))
      throw validationFailed("CheckRun", "conclusion", "conclusion is not included in the list");
    run.conclusion = body.conclusion;
    run.status = "completed";
  }
  if (run.status === "completed" && run.conclusion === null)
    throw validationFailed("CheckRun", "conclusion", "conclusion is required when status is completed");
  if (run.status === "completed") run.completedAt ??= now();
  if (body.output !== undefined) {
    const output = bodyObject(body.output);
    const title = optionalString(output, "title");
    const summary = optionalString(output, "summary");
    const text = optionalString(output, "text");
    if (typeof summary === "string" && summary.length > MAX_SUMMARY)
      throw validationFailed("CheckRun", "output.summary", "summary is too long");
    run.output = {
      title: title ?? run.output.title,
      summary: summary ?? run.output.summary,
      text: text ?? run.output.text,
    };
  }
}

function checkRunJson(state: EmulatorState, repo: RepoState, run: CheckRun): Record<string, unknown> {
  const api = `${state.urls.api}/repos/${repo.fullName}`;
  return {
    id: run.id,
    node_id: `CR_${run.id}`,
    name: run.name,
    head_sha: run.headSha,
    external_id: run.externalId ?? "",
    url: `${api}/check-runs/${run.id}`,
    html_url: `${state.urls.web}/${repo.fullName}/runs/${run.id}`,
    details_url: run.detailsUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      ...run.output,
      annotations_count: 0,
      annotations_url: `${api}/check-runs/${run.id}/annotations`,
    },
    check_suite: { id: stableId("check_suite", `${repo.fullName}/${run.headSha}/${run.appId}`) },
    app: { id: run.appId, slug: `hangar-app-${run.appId}` },
    pull_requests: pullsAt(state, repo, run.headSha),
  };
}

/**
 * The open PRs whose head is `sha`, as a check run lists them. As on GitHub, only PRs whose
 * head branch is in the repository itself: a fork's PR is not listed.
 */
function pullsAt(state: EmulatorState, repo: RepoState, sha: string): Record<string, unknown>[] {
  const api = `${state.urls.api}/repos/${repo.fullName}`;
  const side = (ref: string, at: string) => ({
    ref,
    sha: at,
    repo: { id: stableId("repo", repo.fullName), url: api, name: repo.name },
  });
  return [...repo.pulls.values()]
    .filter((pull) => pull.state === "open" && pull.headSha === sha && pull.headOwner === repo.owner)
    .map((pull) => ({
      url: `${api}/pulls/${pull.number}`,
      id: stableId("pull", `${repo.fullName}#${pull.number}`),
      number: pull.number,
      head: side(pull.headRef, pull.headSha),
      base: side(pull.baseRef, pull.baseSha),
    }));
}

export function checkRoutes(state: EmulatorState): Route[] {
  const repoOf = (context: RequestContext): RepoState => {
    const repo = state.repos.get(`${context.params[0]}/${context.params[1]}`);
    if (repo === undefined) throw notFound();
    return repo;
  };
  const runOf = (context: RequestContext): { repo: RepoState; run: CheckRun } => {
    const repo = repoOf(context);
    const run = runsOf(state, repo.fullName).find((candidate) => candidate.id === Number(context.params[2]));
    if (run === undefined) throw notFound();
    return { repo, run };
  };
  const REPO = "^/repos/([^/]+)/([^/]+)";
  return [
    route("POST", new RegExp(`${REPO}/check-runs$`), async (context) => {
      const installation = installationOf(state, context.headers.authorization);
      if (installation === null) throw new HttpError(403, "You must authenticate via a GitHub App.");
      const repo = repoOf(context);
      const body = bodyObject(context.body);
      if (typeof body.name !== "string" || body.name === "")
        throw validationFailed("CheckRun", "name", "name wasn't supplied");
      const requested = typeof body.head_sha === "string" ? body.head_sha : "";
      const sha = /^[0-9a-f]{40}$/.test(requested) ? await resolveCommit(repo.gitDir, requested) : null;
      if (sha === null) throw validationFailed("CheckRun", "head_sha", "No commit found for SHA");
      const run: CheckRun = {
        id: state.nextId(),
        appId: installation.appId,
        installationId: installation.installationId,
        headSha: sha,
        name: body.name,
        externalId: null,
        detailsUrl: null,
        status: "queued",
        conclusion: null,
        startedAt: now(),
        completedAt: null,
        output: { title: null, summary: null, text: null },
      };
      applyFields(run, body);
      runsOf(state, repo.fullName).push(run);
      return { status: 201, body: checkRunJson(state, repo, run) };
    }),

    route("PATCH", new RegExp(`${REPO}/check-runs/(\\d+)$`), (context) => {
      const installation = installationOf(state, context.headers.authorization);
      const { repo, run } = runOf(context);
      if (installation?.appId !== run.appId)
        throw new HttpError(403, "Only the app that made a check run may update it.");
      applyFields(run, bodyObject(context.body));
      return { status: 200, body: checkRunJson(state, repo, run) };
    }),

    route("GET", new RegExp(`${REPO}/check-runs/(\\d+)$`), (context) => {
      const { repo, run } = runOf(context);
      return { status: 200, body: checkRunJson(state, repo, run) };
    }),

    route("POST", new RegExp(`${REPO}/check-runs/(\\d+)/rerequest$`), async (context) => {
      const { repo, run } = runOf(context);
      const delivered = state.deliver("check_run", {
        action: "rerequested",
        check_run: checkRunJson(state, repo, run),
        repository: repositoryJson(state.urls, state.facts(repo)),
        sender: userJson(state.urls, state.user),
        installation: { id: run.installationId },
      });
      // Without a webhook configured there is nobody to tell; the re-run request itself succeeded.
      await delivered.catch(() => undefined);
      return { status: 201, body: {} };
    }),

    route("GET", new RegExp(`${REPO}/commits/(.+)/check-runs$`), async (context) => {
      const repo = repoOf(context);
      const sha = await resolveCommit(repo.gitDir, context.params[2] ?? "");
      if (sha === null) throw new HttpError(422, `No commit found for SHA: ${context.params[2]}`);
      const name = context.url.searchParams.get("check_name");
      const runs = runsOf(state, repo.fullName)
        .filter((run) => run.headSha === sha && (name === null || run.name === name))
        .reverse();
      const { items, headers } = paginate(context.url, runs);
      return {
        status: 200,
        body: { total_count: runs.length, check_runs: items.map((run) => checkRunJson(state, repo, run)) },
        headers,
      };
    }),
  ];
}
