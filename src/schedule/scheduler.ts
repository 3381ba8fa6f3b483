/**
 * Scheduled runs (`projects.<repo>.schedules`): at each cron time, queue the branch's
 * contexts on the branch's head commit, then watch the commit's statuses for each
 * run's result and keep one issue per failing context (see issues.ts).
 * Run the scheduler in one process only: every scheduler fires every schedule.
 */
import type { HangarConfig, ScheduleEntry } from "../config/index.js";
import type { ForgeExtras } from "../forge/extras.js";
import type { Forge } from "../forge/types.js";
import type { QueueBackend } from "../queue/types.js";
import type { Subject } from "../scan/jobs.js";
import { NOT_YET_TESTED, taskFor } from "../scan/plan.js";
import { automaticContexts, type ContextSpec, findContext } from "../scan/testmap.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { nextRun } from "./cron.js";
import { type IssueChange, reportScheduledResult, type ScheduledResult } from "./issues.js";

export interface SchedulerDeps {
  readonly config: HangarConfig;
  readonly queue: QueueBackend;
  readonly forge: Forge & ForgeExtras;
  readonly logger: Logger;
  /** How often pending runs' statuses are read. */
  readonly pollMs?: number;
  /** Called with each issue change, for logs and tests. */
  readonly onReport?: (result: ScheduledResult, change: IssueChange) => void;
}

/** A queued scheduled run whose result is not in yet. */
export interface PendingRun {
  readonly repo: string;
  readonly branch: string;
  readonly sha: string;
  readonly context: string;
  readonly slug: string;
}

/** setTimeout cannot wait longer than about 24 days; longer waits are taken in steps. */
const MAX_TIMER_MS = 60 * 60 * 1000;
const DEFAULT_POLL_MS = 30_000;

export interface Scheduler {
  /** Runs one schedule now, as its cron time would; returns the runs it queued. */
  fire(repo: string, index: number): Promise<PendingRun[]>;
  /** Reads the statuses of pending runs once and reports those that finished. */
  check(): Promise<void>;
  readonly pending: readonly PendingRun[];
  stop(): Promise<void>;
}

function scheduledSpecs(config: HangarConfig, repo: string, schedule: ScheduleEntry): ContextSpec[] {
  if (schedule.contexts === undefined) return automaticContexts(config, repo, schedule.branch);
  return schedule.contexts.flatMap((name) => {
    const spec = findContext(config, repo, schedule.branch, name);
    return spec ? [spec] : [];
  });
}

export function startScheduler(deps: SchedulerDeps): Scheduler {
  const pending: PendingRun[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let checking: Promise<void> = Promise.resolve();

  async function fire(repo: string, index: number): Promise<PendingRun[]> {
    const schedule = deps.config.projects[repo]?.schedules[index];
    if (schedule === undefined) throw new Error(`no schedule ${index} for ${repo}`);
    const sha = await deps.forge.branchHead(repo, schedule.branch);
    const subject: Subject = {
      repo,
      sha,
      pull: null,
      baseBranch: schedule.branch,
      title: `scheduled run (${schedule.cron}) of ${schedule.branch}`,
    };
    const queued: PendingRun[] = [];
    for (const spec of scheduledSpecs(deps.config, repo, schedule)) {
      const task = taskFor(subject, spec, true);
      const job = { ...task.job, report: { schedule: schedule.cron, branch: schedule.branch } };
      await deps.forge.postStatus(repo, sha, {
        context: spec.name,
        state: "pending",
        description: NOT_YET_TESTED,
      });
      await deps.queue.publish(spec.queue, JSON.stringify({ job, human: task.human }), {
        priority: spec.priority,
      });
      const run = { repo, branch: schedule.branch, sha, context: spec.name, slug: job.slug ?? "" };
      pending.push(run);
      queued.push(run);
    }
    deps.logger.info(
      { repo, branch: schedule.branch, sha, contexts: queued.map((r) => r.context) },
      "scheduled run queued",
    );
    return queued;
  }

  async function checkOnce(): Promise<void> {
    const bySubject = new Map<string, PendingRun[]>();
    for (const run of pending) {
      const key = `${run.repo}@${run.sha}`;
      bySubject.set(key, [...(bySubject.get(key) ?? []), run]);
    }
    for (const runs of bySubject.values()) {
      const first = runs[0];
      if (first === undefined) continue;
      const statuses = await deps.forge.getStatuses(first.repo, first.sha);
      for (const run of runs) {
        const status = statuses.get(run.context);
        // Only this run's result counts: its log URL names its slug; older results on the commit do not.
        if (!status || status.state === "pending" || !status.target_url?.includes(run.slug)) continue;
        const result: ScheduledResult = {
          repo: run.repo,
          branch: run.branch,
          context: run.context,
          sha: run.sha,
          state: status.state,
          description: status.description ?? status.state,
          logUrl: status.target_url ?? null,
        };
        const change = await reportScheduledResult(deps.forge, result);
        pending.splice(pending.indexOf(run), 1);
        deps.logger.info({ ...result, issue: change }, "scheduled run finished");
        deps.onReport?.(result, change);
      }
    }
  }

  function check(): Promise<void> {
    checking = checking.then(checkOnce);
    const current = checking;
    checking = checking.catch(() => undefined);
    return current;
  }

  function arm(repo: string, index: number, schedule: ScheduleEntry, after: Date): void {
    if (stopped) return;
    const due = nextRun(schedule.cron, after, schedule.timezone);
    const wait = Math.min(Math.max(due.getTime() - Date.now(), 0), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (Date.now() < due.getTime()) {
        arm(repo, index, schedule, after);
        return;
      }
      fire(repo, index)
        .catch((error: unknown) =>
          deps.logger.error({ repo, err: errorMessage(error) }, "scheduled run failed to start"),
        )
        .finally(() => arm(repo, index, schedule, due));
    }, wait);
    timer.unref();
    timers.add(timer);
  }

  const now = new Date();
  for (const [repo, project] of Object.entries(deps.config.projects)) {
    project.schedules.forEach((schedule, index) => {
      arm(repo, index, schedule, now);
    });
  }
  const poller = setInterval(() => {
    if (pending.length === 0) return;
    check().catch((error: unknown) =>
      deps.logger.warn({ err: errorMessage(error) }, "cannot read scheduled results"),
    );
  }, deps.pollMs ?? DEFAULT_POLL_MS);
  poller.unref();

  return {
    fire,
    check,
    pending,
    async stop() {
      stopped = true;
      clearInterval(poller);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await checking;
    },
  };
}
