/**
 * `hangar local` (`npm start`): the deployment of deploy/kubernetes on this
 * machine, with the GitHub emulator: a demo pull request, `--selftest`, or `-i`.
 */
import type { Command } from "commander";
import { RabbitUnavailableError } from "../../local/rabbit-node.js";
import { type RealPull, runLocal } from "../../local/run.js";
import { UsageError } from "../errors.js";

interface LocalFlags {
  readonly once: boolean;
  readonly keep: boolean;
  readonly timeout: string;
  readonly rabbitmq: boolean;
  readonly selftest: boolean;
  readonly interactive: boolean;
  readonly manifests?: string;
  readonly githubToken?: string;
  readonly repo?: string;
  readonly pr?: string;
}

/** Resolves on SIGTERM or SIGHUP, and on SIGINT unless a shell owns the terminal's Ctrl-C. */
function stoppedBySignal(interactive: boolean): Promise<void> {
  return new Promise((resolve) => {
    const signals: NodeJS.Signals[] = interactive ? ["SIGTERM", "SIGHUP"] : ["SIGINT", "SIGTERM", "SIGHUP"];
    const stop = () => {
      for (const signal of signals) process.off(signal, stop);
      process.stdout.write("\nstopping...\n");
      for (const signal of signals) process.on(signal, () => process.exit(130));
      resolve();
    };
    for (const signal of signals) process.on(signal, stop);
  });
}

function realPull(flags: LocalFlags): RealPull | undefined {
  const given = [flags.githubToken, flags.repo, flags.pr].filter((flag) => flag !== undefined).length;
  if (given === 0) return undefined;
  if (given !== 3 || !flags.githubToken || !flags.repo || !flags.pr)
    throw new UsageError("--github-token, --repo and --pr go together: all three name the real pull request");
  if (!(flags.selftest || flags.interactive))
    throw new UsageError("--github-token, --repo and --pr are for --selftest or -i");
  if (!/^[\w.-]+\/[\w.-]+$/.test(flags.repo))
    throw new UsageError(`--repo: expected OWNER/NAME, got ${flags.repo}`);
  const pull = Number(flags.pr);
  if (!Number.isInteger(pull) || pull <= 0)
    throw new UsageError(`--pr: expected a pull request number, got ${flags.pr}`);
  return { tokenFile: flags.githubToken, repo: flags.repo, pull };
}

export function register(program: Command): void {
  program
    .command("local")
    .description(
      "run hangar's deployment (deploy/kubernetes) on this machine with fake secrets and the GitHub emulator, and send a demo pull request through it",
    )
    .option("--once", "exit after the demo PR: 0 if all its statuses end in success, 1 otherwise", false)
    .option("--keep", "keep the workspace directory (config, queue, store, logs) afterwards", false)
    .option("--timeout <seconds>", "how long to wait for a pull request's results", "120")
    .option(
      "--rabbitmq",
      "start a private RabbitMQ node (TLS, the deployment's rabbitmq.conf) instead of the SQLite queue",
      false,
    )
    .option(
      "--selftest",
      "run the interaction tests (queue, store, webhook to statuses) and exit 0 if all pass",
      false,
    )
    .option(
      "-i, --interactive",
      "after the self-tests, open a shell inside the deployment; exiting it tears everything down",
      false,
    )
    .option(
      "--manifests <dir>",
      "the deploy/kubernetes directory to read the ConfigMaps from (default: this installation's)",
    )
    .option(
      "--github-token <file>",
      "self-test against a real pull request: file holding a GitHub token that may post statuses",
    )
    .option("--repo <owner/name>", "the real pull request's repository")
    .option("--pr <number>", "the real pull request's number")
    .action(async (flags: LocalFlags) => {
      const seconds = Number(flags.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0)
        throw new UsageError(`--timeout: expected a positive number of seconds, got ${flags.timeout}`);
      const github = realPull(flags);
      try {
        process.exitCode = await runLocal({
          once: flags.once,
          keep: flags.keep,
          timeoutMs: seconds * 1000,
          print: (line) => process.stdout.write(`${line}\n`),
          stopped: stoppedBySignal(flags.interactive),
          rabbitmq: flags.rabbitmq,
          selftest: flags.selftest,
          interactive: flags.interactive,
          shell: process.env.SHELL || "/bin/bash",
          ...(flags.manifests ? { manifestsDir: flags.manifests } : {}),
          ...(github ? { github } : {}),
        });
      } catch (error) {
        if (error instanceof RabbitUnavailableError) throw new UsageError(error.message);
        throw error;
      }
    });
}
