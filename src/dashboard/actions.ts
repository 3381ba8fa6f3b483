/**
 * What an admin can do from the dashboard. Retry goes the way `hangar
 * trigger` goes: a pending "Not yet tested (direct trigger)" status on the
 * PR's head, which GitHub sends back as a status event and the scanner turns
 * into a job. Cancel and drain go to the workers through a control channel.
 */
import type { Forge } from "../forge/types.js";
import type { JobHistory } from "../jobs/types.js";
import { errorMessage } from "../util/errors.js";

export const DIRECT_TRIGGER = "Not yet tested (direct trigger)";

/** How the dashboard reaches workers; absent, cancel and drain are not offered. */
export interface DashboardControl {
  /** Ask the job's worker to stop it (it posts "Cancelled"); a queued job is dropped when it is picked up. */
  cancelJob(id: string): Promise<void>;
  /** Ask the worker to take no more work; its running jobs finish. */
  drainWorker(name: string): Promise<void>;
}

export interface ActionDeps {
  readonly history: JobHistory;
  readonly forge?: Forge;
  readonly control?: DashboardControl;
}

export interface ActionResult {
  readonly status: number;
  readonly message: string;
}

export type ActionName = "retry" | "cancel" | "drain";
export const ACTIONS: readonly ActionName[] = ["retry", "cancel", "drain"];

const REPO = /^[\w.-]+\/[\w.-]+$/;

const refused = (status: number, message: string): ActionResult => ({ status, message });

async function retry(deps: ActionDeps, form: URLSearchParams): Promise<ActionResult> {
  const repo = form.get("repo") ?? "";
  const context = form.get("context") ?? "";
  const pull = Number(form.get("pull"));
  if (!REPO.test(repo) || context === "" || !Number.isInteger(pull) || pull <= 0) {
    return refused(400, "retry needs repo (owner/name), pull (a PR number) and context");
  }
  if (deps.forge === undefined) return refused(503, "this dashboard has no GitHub access to retry with");
  const found = await deps.forge.getPull(repo, pull);
  const head = found.headSha;
  // The PR's page as target_url names the PR; scan runs the job trusted only at that open PR's head.
  await deps.forge.postStatus(repo, head, {
    context,
    state: "pending",
    description: DIRECT_TRIGGER,
    target_url: found.htmlUrl,
  });
  return { status: 202, message: `${context} on ${repo}#${pull} (${head.slice(0, 8)}) will be tested again` };
}

async function cancel(deps: ActionDeps, form: URLSearchParams): Promise<ActionResult> {
  const id = form.get("job") ?? "";
  if (deps.control === undefined) return refused(503, "this dashboard has no control channel to the workers");
  const job = await deps.history.getJob(id);
  if (job === null) return refused(404, `no job ${id}`);
  if (!["queued", "leased", "running"].includes(job.state))
    return refused(409, `job ${id} is ${job.state}, not running`);
  await deps.control.cancelJob(id);
  return { status: 202, message: `job ${id} (${job.context}) will be cancelled` };
}

async function drain(deps: ActionDeps, form: URLSearchParams): Promise<ActionResult> {
  const name = form.get("worker") ?? "";
  if (deps.control === undefined) return refused(503, "this dashboard has no control channel to the workers");
  const workers = await deps.history.listWorkers();
  if (!workers.some((worker) => worker.name === name)) return refused(404, `no worker ${name}`);
  await deps.control.drainWorker(name);
  return { status: 202, message: `worker ${name} will take no more work` };
}

export async function runAction(
  deps: ActionDeps,
  action: ActionName,
  form: URLSearchParams,
): Promise<ActionResult> {
  try {
    if (action === "retry") return await retry(deps, form);
    if (action === "cancel") return await cancel(deps, form);
    return await drain(deps, form);
  } catch (error) {
    return refused(502, `${action} failed: ${errorMessage(error)}`);
  }
}
