/**
 * Reconciliation: catching up with events lost outside hangar (the webhook was
 * down, GitHub gave up, a delivery was refused). At worker start and every N
 * minutes it
 * - asks GitHub to redeliver the failed deliveries of the configured hooks
 *   (GitHub never does that by itself), except pull_request events, which the
 *   next step covers from the PRs' current state (replaying them too would
 *   queue the same jobs twice);
 * - lists the open PRs of every project in the test map and plans each one as
 *   a pull_request event would, applying only the actions for contexts that
 *   have no status at all on the head commit: a context with any status was
 *   seen by hangar already.
 */
import type { HangarConfig } from "../config/index.js";
import { failedDeliveries, type HookDeliveries, type HookTarget } from "../forge/hooks.js";
import type { CommitStatus, Forge, PullRequest } from "../forge/types.js";
import type { QueueBackend } from "../queue/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { pullRequestScan } from "./events.js";
import { planScan, type ScanPlan } from "./plan.js";
import { applyPlan } from "./scanner.js";
import { automaticContexts } from "./testmap.js";

export interface ReconcileDeps {
  readonly config: HangarConfig;
  readonly queue: QueueBackend;
  readonly forge: Forge;
  /** Reads and redelivers hook deliveries; without it, only open PRs are looked at. */
  readonly hooks?: HookDeliveries;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export interface ReconcileReport {
  /** Open PRs looked at. */
  readonly pulls: number;
  /** Jobs queued for contexts without any status. */
  readonly queued: number;
  /** Pending statuses posted without a job (Manual testing required). */
  readonly statuses: number;
  /** Failed deliveries GitHub was asked to send again. */
  readonly redelivered: number;
  /** Repositories, PRs or hooks that could not be reconciled this time. */
  readonly errors: number;
}

/** At most this many redeliveries per hook and run, newest first. */
const MAX_REDELIVERIES = 100;
/** Left to the open-PR scan (see the top of this file). */
const COVERED_PULL_ACTIONS = new Set(["opened", "synchronize", "reopened"]);

interface Tally {
  pulls: number;
  queued: number;
  statuses: number;
  redelivered: number;
  errors: number;
}

/** `forge` answering getStatuses for one commit from what was read already. */
function withKnownStatuses(forge: Forge, sha: string, known: Map<string, CommitStatus>): Forge {
  return new Proxy(forge, {
    get(target, property, receiver) {
      if (property === "getStatuses") {
        return (repo: string, ref: string) =>
          ref === sha ? Promise.resolve(known) : target.getStatuses(repo, ref);
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function missingOnly(plan: ScanPlan, statuses: Map<string, CommitStatus>): ScanPlan {
  return {
    ...plan,
    actions: plan.actions.filter((action) => "context" in action && !statuses.has(action.context)),
  };
}

async function reconcilePull(deps: ReconcileDeps, pull: PullRequest, tally: Tally): Promise<void> {
  const { config, forge, logger } = deps;
  const contexts = automaticContexts(config, pull.repo, pull.baseRef);
  if (contexts.length === 0) return;
  const statuses = await forge.getStatuses(pull.repo, pull.headSha);
  if (contexts.every((context) => statuses.has(context.name))) return;

  const request = pullRequestScan(pull);
  const planForge = withKnownStatuses(forge, pull.headSha, statuses);
  let plan = missingOnly(
    await planScan({ config, forge: planForge, logger, ...(deps.now ? { now: deps.now() } : {}) }, request),
    statuses,
  );
  if (plan.actions.length === 0) return;
  // A scan of a delivery may have got there meanwhile: look once more right before acting.
  const now = await forge.getStatuses(pull.repo, pull.headSha);
  plan = missingOnly(plan, now);
  if (plan.actions.length === 0) return;
  await applyPlan({ config, queue: deps.queue, forge, logger }, plan);
  const queued = plan.actions.filter((action) => action.kind === "queue").map((action) => action.context);
  const posted = plan.actions.filter((action) => action.kind === "status").map((action) => action.context);
  tally.queued += queued.length;
  tally.statuses += posted.length;
  logger.info(
    { repo: pull.repo, pull: pull.number, sha: pull.headSha, queued, statuses: posted },
    "reconcile: PR had contexts without a status",
  );
}

async function reconcileHook(deps: ReconcileDeps, hooks: HookDeliveries, hook: HookTarget, tally: Tally) {
  const now = deps.now?.() ?? new Date();
  const since = new Date(now.getTime() - deps.config.reconcile.lookbackHours * 3600_000);
  const failed = failedDeliveries(await hooks.listHookDeliveries(hook, since))
    .filter(
      (delivery) => !(delivery.event === "pull_request" && COVERED_PULL_ACTIONS.has(delivery.action ?? "")),
    )
    .slice(0, MAX_REDELIVERIES);
  for (const delivery of failed) {
    await hooks.redeliver(hook, delivery.id);
    tally.redelivered += 1;
    deps.logger.info(
      { hook: { ...hook }, delivery: delivery.guid, event: delivery.event, status: delivery.statusCode },
      "reconcile: asked GitHub to redeliver a failed delivery",
    );
  }
}

/** One reconciliation run; failures of one repository, PR or hook are logged and counted, never thrown. */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const { config, logger } = deps;
  const tally: Tally = { pulls: 0, queued: 0, statuses: 0, redelivered: 0, errors: 0 };
  const started = performance.now();
  if (deps.hooks) {
    for (const hook of config.reconcile.hooks) {
      await reconcileHook(deps, deps.hooks, hook, tally).catch((error: unknown) => {
        tally.errors += 1;
        logger.warn(
          { hook: { ...hook }, err: errorMessage(error) },
          "reconcile: cannot read the hook's deliveries",
        );
      });
    }
  }
  for (const repo of Object.keys(config.projects)) {
    let pulls: PullRequest[];
    try {
      pulls = await deps.forge.listOpenPulls(repo);
    } catch (error) {
      tally.errors += 1;
      logger.warn({ repo, err: errorMessage(error) }, "reconcile: cannot list open pull requests");
      continue;
    }
    for (const pull of pulls) {
      tally.pulls += 1;
      await reconcilePull(deps, pull, tally).catch((error: unknown) => {
        tally.errors += 1;
        logger.warn({ repo, pull: pull.number, err: errorMessage(error) }, "reconcile: cannot reconcile PR");
      });
    }
  }
  const report: ReconcileReport = { ...tally };
  logger.info({ ...report, ms: Math.round(performance.now() - started) }, "reconcile: done");
  return report;
}

export interface Reconciler {
  /** Runs now (after a run in progress, if any) and resolves with its report. */
  runNow(): Promise<ReconcileReport>;
  stop(): Promise<void>;
}

/** Runs at start (reconcile.atStart) and every reconcile.intervalMinutes (0: never again). */
export function startReconciler(deps: ReconcileDeps): Reconciler {
  const { atStart, intervalMinutes, startDelaySeconds } = deps.config.reconcile;
  let running: Promise<ReconcileReport> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const run = (): Promise<ReconcileReport> => {
    const previous = running ?? Promise.resolve(undefined);
    const next = previous.then(() => reconcile(deps));
    running = next;
    void next.finally(() => {
      if (running === next) running = undefined;
    });
    return next;
  };
  const runInBackground = (): void => {
    run()
      .catch((error: unknown) => deps.logger.error({ err: errorMessage(error) }, "reconcile failed"))
      .finally(schedule);
  };
  const schedule = (): void => {
    if (stopped || intervalMinutes <= 0) return;
    timer = setTimeout(runInBackground, intervalMinutes * 60_000);
    timer.unref();
  };
  if (atStart) {
    timer = setTimeout(runInBackground, startDelaySeconds * 1000);
    timer.unref();
  } else schedule();

  return {
    runNow: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
