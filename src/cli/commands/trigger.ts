/**
 * `hangar trigger REPO PR CONTEXT... [--all-failed]`: set pending "Not yet tested
 * (direct trigger)" on a PR's head, its target_url the PR's page; the forge's `status`
 * event then queues each job, trusted only if the commit is still that open PR's head.
 */
import type { Command } from "commander";
import { loadConfigFile } from "../../config/index.js";
import { openProjectForges } from "../../forge/projects.js";
import { DIRECT_TRIGGER_DESCRIPTION, planDirectTrigger, TriggerError } from "../../scan/commands.js";
import { UsageError } from "../errors.js";
import { commandLogger } from "../lifecycle.js";

interface TriggerFlags {
  readonly config: string;
  readonly allFailed?: boolean;
  readonly logLevel?: string;
}

async function trigger(
  repo: string,
  pullText: string,
  contexts: string[],
  flags: TriggerFlags,
): Promise<void> {
  const pull = Number(pullText);
  if (!/^\d+$/.test(pullText) || pull < 1)
    throw new UsageError(`PR expects a pull request number, got "${pullText}"`);
  const loaded = loadConfigFile(flags.config);
  const logger = commandLogger(loaded.config, flags.logLevel ?? "warn");
  const forges = openProjectForges(loaded, process.env, logger);
  try {
    const planned = await planDirectTrigger(
      { config: loaded.config, forge: forges.forge, logger },
      { repo, pull, contexts, allFailed: flags.allFailed === true },
    ).catch((error: unknown) => {
      throw error instanceof TriggerError ? new UsageError(error.message) : error;
    });
    for (const context of planned.contexts) {
      await forges.forge.postStatus(repo, planned.sha, {
        context,
        state: "pending",
        description: DIRECT_TRIGGER_DESCRIPTION,
        target_url: planned.targetUrl,
      });
      process.stdout.write(`${context}: triggered on ${repo}#${pull} at ${planned.sha.slice(0, 12)}\n`);
    }
  } finally {
    await forges.close();
  }
}

export function register(program: Command): void {
  program
    .command("trigger")
    .description(
      "run contexts on a pull request's head now (also _manual ones), through a direct-trigger status",
    )
    .argument("<repo>", "owner/name")
    .argument("<pr>", "pull request number")
    .argument("[contexts...]", "contexts of the test map to run")
    .option("-c, --config <file>", "hangar.yaml to use", "hangar.yaml")
    .option("--all-failed", "also run every context that failed on the head")
    .option("--log-level <level>", "override log.level (trace, debug, info, warn, error)")
    .action((repo: string, pr: string, contexts: string[], flags: TriggerFlags) =>
      trigger(repo, pr, contexts, flags),
    );
}
