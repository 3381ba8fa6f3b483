/**
 * `hangar scan REPO [--pr N] [--dry] [--human]`: what the open PRs of a repository
 * (or one of them) would get queued, and why; without --dry it also posts the
 * statuses and queues the jobs, as the scanner would on their webhook events.
 */
import type { Command } from "commander";
import { loadConfigFile } from "../../config/index.js";
import { openProjectForges } from "../../forge/projects.js";
import type { PullRequest } from "../../forge/types.js";
import { openConfiguredQueue } from "../../queue/from-config.js";
import { signingQueue } from "../../queue/signing.js";
import { loadSigningKey } from "../../queue/signing-key.js";
import { pullRequestScan } from "../../scan/events.js";
import { applyPlan, planScan, type ScanPlan } from "../../scan/index.js";
import { UsageError } from "../errors.js";
import { commandLogger } from "../lifecycle.js";

interface ScanFlags {
  readonly config: string;
  readonly pr?: string;
  readonly dry?: boolean;
  readonly human?: boolean;
  readonly logLevel?: string;
}

/** One line per action and skip, for people: what runs where, and why the rest does not. */
export function humanLines(pull: PullRequest, plan: ScanPlan): string[] {
  if (plan.ignored !== undefined) return [`#${pull.number}: nothing to do: ${plan.ignored}`];
  const lines = plan.actions.map((action) => {
    if (action.kind === "queue") return action.task.human;
    if (action.kind === "status")
      return `${action.context} for ${pull.repo} pull #${pull.number}: ${action.description}`;
    return `comment on #${action.issue}: ${action.body}`;
  });
  for (const skip of plan.skipped)
    lines.push(`${skip.context} for ${pull.repo} pull #${pull.number}: skipped, ${skip.reason}`);
  return lines;
}

/** The queue entries, as JSON lines (with queue and priority), as bots' tests-scan prints them. */
function jsonLines(plan: ScanPlan): string[] {
  return plan.actions.flatMap((action) =>
    action.kind === "queue"
      ? [JSON.stringify({ queue: action.queue, priority: action.priority, ...action.task })]
      : [],
  );
}

async function scan(repo: string, flags: ScanFlags): Promise<void> {
  if (flags.pr !== undefined && !/^[1-9]\d*$/.test(flags.pr))
    throw new UsageError(`--pr expects a pull request number, got "${flags.pr}"`);
  const loaded = loadConfigFile(flags.config);
  const { config } = loaded;
  if (config.projects[repo] === undefined)
    throw new UsageError(`${repo} is not a project in ${flags.config}`);
  const logger = commandLogger(config, flags.logLevel ?? "warn");
  const forges = openProjectForges(loaded, process.env, logger);
  // Entries scan queues are signed, as the scanner's are; unsigned ones would run untrusted.
  const queue = flags.dry
    ? undefined
    : signingQueue(
        await openConfiguredQueue(loaded, process.env, logger),
        loadSigningKey(loaded, process.env).key,
      );
  try {
    const forge = forges.forge;
    const pulls =
      flags.pr === undefined
        ? await forge.listOpenPulls(repo)
        : [await forge.getPull(repo, Number(flags.pr))];
    for (const pull of pulls.sort((a, b) => a.number - b.number)) {
      const plan = await planScan({ config, forge, logger }, pullRequestScan({ ...pull, repo }));
      const lines = flags.human ? humanLines(pull, plan) : jsonLines(plan);
      if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
      if (queue) await applyPlan({ config, queue, forge, logger }, plan);
    }
  } finally {
    await queue?.close();
    await forges.close();
  }
}

export function register(program: Command): void {
  program
    .command("scan")
    .description("show (and without --dry, do) what the open pull requests of a repository would get queued")
    .argument("<repo>", "owner/name")
    .option("-c, --config <file>", "hangar.yaml to use", "hangar.yaml")
    .option("--pr <number>", "only this pull request")
    .option("--dry", "post nothing and queue nothing; only print")
    .option("--human", "print one line per context, with its queue and priority, instead of JSON entries")
    .option("--log-level <level>", "override log.level (trace, debug, info, warn, error)")
    .action((repo: string, flags: ScanFlags) => scan(repo, flags));
}
