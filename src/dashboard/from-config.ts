/**
 * The dashboard as hangar.yaml configures it (`dashboard:`), over the parts
 * the calling process already has open: `hangar serve` passes its own, the
 * `hangar dashboard` role opens them itself.
 */
import { dirname, join } from "node:path";
import { configPath, type LoadedConfig, queueLayout, resolveOptionalSecret } from "../config/index.js";
import type { Forge } from "../forge/types.js";
import type { JobHistory } from "../jobs/types.js";
import { addMetricsSource } from "../metrics/registry.js";
import { queueKinds } from "../queue/layout.js";
import type { QueueBackend } from "../queue/types.js";
import type { Store } from "../store/types.js";
import type { Logger } from "../util/logger.js";
import { storeControl } from "./control.js";
import { type RunningDashboard, startDashboard } from "./server.js";

/** The recorder's job database: `worker.jobsDatabase`, else hangar-jobs.sqlite next to the SQLite queue. */
export function jobsDatabasePath(loaded: LoadedConfig): string {
  const { config } = loaded;
  return configPath(
    loaded,
    config.worker.jobsDatabase ?? join(dirname(config.queue.sqlite.path), "hangar-jobs.sqlite"),
  );
}

export interface ConfiguredDashboardParts {
  readonly loaded: LoadedConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly queue: QueueBackend;
  readonly history: JobHistory;
  /** For log tails and the control channel (cancel, drain). */
  readonly store?: Store;
  /** For retry. */
  readonly forge?: Forge;
  /** Overrides `dashboard.listen`. */
  readonly listen?: string;
}

/** Starts the dashboard and feeds /metrics from its queue and history; undefined when `dashboard.listen` is unset. */
export async function startConfiguredDashboard(
  parts: ConfiguredDashboardParts,
): Promise<RunningDashboard | undefined> {
  const { loaded, logger } = parts;
  const settings = loaded.config.dashboard;
  const listen = parts.listen ?? settings.listen;
  if (listen === undefined) return undefined;
  const adminToken = resolveOptionalSecret(settings.adminToken, "dashboard.adminToken", {
    env: parts.env,
    baseDir: loaded.baseDir,
  });
  const queues = queueKinds(queueLayout(loaded.config));
  const dashboard = await startDashboard({
    listen,
    sources: {
      queue: parts.queue,
      queues,
      history: parts.history,
      ...(parts.store ? { store: parts.store } : {}),
    },
    ...(adminToken === undefined ? {} : { adminToken }),
    ...(parts.forge ? { forge: parts.forge } : {}),
    ...(parts.store ? { control: storeControl(parts.store) } : {}),
    secureCookie: settings.secureCookie,
    logger,
  });
  const removeSource = addMetricsSource({
    queue: parts.queue,
    queues: [...queues.keys()],
    history: parts.history,
  });
  return {
    url: dashboard.url,
    async close() {
      removeSource();
      await dashboard.close();
    },
  };
}
