/** The long-running roles: `hangar serve` (all in one process), `hangar webhook`, `hangar worker`. */
import type { Command } from "commander";
import { loadConfigFile } from "../../config/index.js";
import { commandLogger, untilSignal } from "../lifecycle.js";
import { ALL_ROLES, type Roles, startServices } from "../services.js";

interface ServeFlags {
  readonly config: string;
  readonly logLevel?: string;
  readonly insecureNoSignature?: boolean;
}

const INSECURE_FLAG = [
  "--insecure-no-signature",
  "accept webhook deliveries without a signature (local experiments only; logged loudly)",
] as const;

async function serve(flags: ServeFlags, roles: Roles): Promise<void> {
  const file = loadConfigFile(flags.config);
  const { webhook } = file.config;
  const loaded = flags.insecureNoSignature
    ? { ...file, config: { ...file.config, webhook: { ...webhook, insecureNoSignature: true } } }
    : file;
  const logger = commandLogger(loaded.config, flags.logLevel);
  const services = await startServices({ loaded, env: process.env, roles, logger });
  logger.info({ webhook: services.webhookUrl, store: services.storeUrl }, "hangar is up");
  await untilSignal(logger, () => services.stop());
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("run the webhook, a worker (scan and run) and the store's HTTP server in one process")
    .requiredOption("-c, --config <file>", "hangar.yaml to use")
    .option("--log-level <level>", "override log.level (trace, debug, info, warn, error)")
    .option(...INSECURE_FLAG)
    .action((flags: ServeFlags) => serve(flags, ALL_ROLES));

  program
    .command("webhook")
    .description(
      "receive GitHub webhooks: verify the signature, queue the payload durably, then answer (phase one alone)",
    )
    .requiredOption("-c, --config <file>", "hangar.yaml to use")
    .option("--log-level <level>", "override log.level (trace, debug, info, warn, error)")
    .option(...INSECURE_FLAG)
    .action((flags: ServeFlags) =>
      serve(flags, { webhook: true, scan: false, run: false, storeServer: false }),
    );

  program
    .command("worker")
    .description("run a worker: scan webhook deliveries and run jobs from the task queues")
    .requiredOption("-c, --config <file>", "hangar.yaml to use")
    .option("--no-scan", "only run jobs; leave the webhook queue to other workers")
    .option("--no-run", "only scan webhook deliveries; run no jobs")
    .option("--log-level <level>", "override log.level (trace, debug, info, warn, error)")
    .action((flags: ServeFlags & { scan: boolean; run: boolean }) =>
      serve(flags, { webhook: false, scan: flags.scan, run: flags.run, storeServer: false }),
    );
}
