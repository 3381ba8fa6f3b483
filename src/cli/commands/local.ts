/** `hangar local` (`npm start`): the whole system locally, with a demo pull request. */
import type { Command } from "commander";
import { runLocal } from "../../local/run.js";
import { UsageError } from "../errors.js";

interface LocalFlags {
  readonly once: boolean;
  readonly keep: boolean;
  readonly timeout: string;
}

function stoppedBySignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.stdout.write("\nstopping...\n");
      process.on("SIGINT", () => process.exit(130));
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

export function register(program: Command): void {
  program
    .command("local")
    .description(
      "run hangar on this machine with fake secrets and the GitHub emulator, and send a demo pull request through it",
    )
    .option("--once", "exit after the demo PR: 0 if all its statuses end in success, 1 otherwise", false)
    .option("--keep", "keep the workspace directory (config, queue, store, logs) afterwards", false)
    .option("--timeout <seconds>", "how long to wait for the demo PR's results", "120")
    .action(async (flags: LocalFlags) => {
      const seconds = Number(flags.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0)
        throw new UsageError(`--timeout: expected a positive number of seconds, got ${flags.timeout}`);
      const code = await runLocal({
        once: flags.once,
        keep: flags.keep,
        timeoutMs: seconds * 1000,
        print: (line) => process.stdout.write(`${line}\n`),
        stopped: stoppedBySignal(),
      });
      process.exitCode = code;
    });
}
