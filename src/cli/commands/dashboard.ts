/**
 * `hangar dashboard`: the dashboard and /metrics as a role of their own, on
 * any host that reaches the queue, the store and the job database (the
 * recorder's SQLite file), e.g. next to the webhook.
 */
import type { Command } from "commander";
import { loadConfigFile, publicUrl, resolveOptionalSecret } from "../../config/index.js";
import { jobsDatabasePath, startConfiguredDashboard } from "../../dashboard/from-config.js";
import { createForge } from "../../forge/index.js";
import { JobDatabase } from "../../jobs/database.js";
import { instrumentForge } from "../../metrics/forge.js";
import { openConfiguredQueue } from "../../queue/from-config.js";
import { openConfiguredStore } from "../../store/from-config.js";
import { UsageError } from "../errors.js";
import { commandLogger, untilSignal } from "../lifecycle.js";

interface DashboardFlags {
  readonly config: string;
  readonly listen?: string;
  readonly logLevel?: string;
}

async function dashboard(flags: DashboardFlags): Promise<void> {
  const loaded = loadConfigFile(flags.config);
  const { config } = loaded;
  const logger = commandLogger(config, flags.logLevel);
  const listen = flags.listen ?? config.dashboard.listen;
  if (listen === undefined)
    throw new UsageError("no address to listen on: set dashboard.listen or pass --listen HOST:PORT");
  const secrets = { env: process.env, baseDir: loaded.baseDir };
  const queue = await openConfiguredQueue(loaded, process.env, logger.child({ part: "queue" }));
  const store = await openConfiguredStore(loaded, process.env, publicUrl(config));
  const history = new JobDatabase(jobsDatabasePath(loaded));
  const forge = instrumentForge(
    createForge({
      api: config.forge.github.api,
      token: resolveOptionalSecret(config.forge.github.token, "forge.github.token", secrets),
      post: config.forge.github.post,
      logger: logger.child({ part: "forge" }),
    }),
  );
  const running = await startConfiguredDashboard({
    loaded,
    env: process.env,
    logger,
    queue,
    history,
    store,
    forge,
    listen,
  });
  logger.info({ dashboard: running?.url }, "hangar dashboard is up");
  await untilSignal(logger, async () => {
    await running?.close();
    history.close();
    await store.close();
    await forge.close();
    await queue.close();
  });
}

export function register(program: Command): void {
  program
    .command("dashboard")
    .description("serve the web dashboard and /metrics from the queue, the store and the job history")
    .requiredOption("-c, --config <file>", "hangar.yaml to use")
    .option("--listen <host:port>", "address to serve on (default: dashboard.listen)")
    .option("--log-level <level>", "override log.level (trace, debug, info, warn, error)")
    .action((flags: DashboardFlags) => dashboard(flags));
}
