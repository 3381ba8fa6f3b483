#!/usr/bin/env node
/** The `hangar` command: each subcommand lives in commands/<name>.ts and registers itself. */
import { Command } from "commander";
import { commands } from "./commands/index.js";
import { exitWithError } from "./errors.js";

const program = new Command()
  .name("hangar")
  .description("Self-hosted, self-testing CI for GitHub projects whose tests need real machines")
  .version("0.1.0")
  .showHelpAfterError("(run with --help for usage)");

// A reader that went away (`hangar ... | head`) is no reason to crash halfway through a cleanup.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

for (const register of commands) register(program);

program.parseAsync(process.argv).catch(exitWithError);
