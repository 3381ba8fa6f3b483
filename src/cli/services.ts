/**
 * Composing hangar's parts into one process: `hangar serve` runs them all,
 * `hangar webhook` and `hangar worker` a subset, `hangar local` all of them
 * next to the GitHub emulator.
 */
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  configPath,
  type LoadedConfig,
  publicUrl,
  resolveOptionalSecret,
  resolveSecret,
  type SecretContext,
  workerName,
  workerQueues,
} from "../config/index.js";
import { jobsDatabasePath, startConfiguredDashboard } from "../dashboard/from-config.js";
import { createForge, type HookDeliveries } from "../forge/index.js";
import { cloneBaseOf, configuredApp, type ProjectForges, projectForges } from "../forge/projects.js";
import type { Forge } from "../forge/types.js";
import { JobDatabase } from "../jobs/database.js";
import { JobEventPublisher } from "../jobs/events.js";
import { startRecorder } from "../jobs/recorder.js";
import type { JobHistory } from "../jobs/types.js";
import { instrumentForge } from "../metrics/forge.js";
import { openConfiguredQueue } from "../queue/from-config.js";
import type { Consumer, QueueBackend } from "../queue/types.js";
import { detectCapabilities } from "../runner/capabilities/index.js";
import { createExecutor } from "../runner/executors.js";
import { type RunningWorker, startWorker } from "../runner/index.js";
import { startScanner } from "../scan/index.js";
import { startReconciler } from "../scan/reconcile.js";
import { startScheduler } from "../schedule/scheduler.js";
import { openConfiguredStore } from "../store/from-config.js";
import { startStoreServer } from "../store/index.js";
import type { Store } from "../store/types.js";
import type { Logger } from "../util/logger.js";
import { startWebhookServer } from "../webhook/index.js";

export interface Roles {
  readonly webhook: boolean;
  readonly scan: boolean;
  readonly run: boolean;
  /** Serve the fs store's directory over HTTP (status links point there). */
  readonly storeServer: boolean;
  /** Record job events into the job database and requeue lost jobs: one process per deployment. */
  readonly record?: boolean;
}

export const ALL_ROLES: Roles = { webhook: true, scan: true, run: true, storeServer: true, record: true };

export interface ServiceOptions {
  readonly loaded: LoadedConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly roles: Roles;
  readonly logger: Logger;
}

export interface RunningServices {
  readonly webhookUrl?: string;
  readonly storeUrl?: string;
  readonly dashboardUrl?: string;
  readonly queue: QueueBackend;
  readonly forge?: Forge;
  readonly store?: Store;
  readonly worker?: RunningWorker;
  /** The job history, in the process that records it. */
  readonly jobs?: JobHistory;
  stop(): Promise<void>;
}

/** Stops what was started, last first, even when starting failed halfway. */
class Stack {
  private readonly stops: (() => Promise<void>)[] = [];
  push(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }
  async unwind(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop();
    this.stops.length = 0;
  }
}

/** `forge.github.clone` is a URL, or a directory relative to the config file. */
function cloneBase(loaded: LoadedConfig): string {
  const clone = loaded.config.forge.github.clone;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(clone) ? clone : configPath(loaded, clone);
}

function secretContext(options: ServiceOptions): SecretContext {
  return { env: options.env, baseDir: options.loaded.baseDir };
}

function workerSecrets(options: ServiceOptions): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const [name, ref] of Object.entries(options.loaded.config.worker.secrets)) {
    secrets[name] = resolveSecret(ref, `worker.secrets.${name}`, secretContext(options));
  }
  return secrets;
}

/** The configured store; with the fs driver, also its HTTP server when this process serves it. */
async function startStore(options: ServiceOptions, stack: Stack): Promise<{ store: Store; url?: string }> {
  const { config } = options.loaded;
  let base = publicUrl(config);
  let url: string | undefined;
  if (options.roles.storeServer && config.store.driver === "fs") {
    const dir = configPath(options.loaded, config.store.fs.dir);
    await mkdir(dir, { recursive: true });
    const server = await startStoreServer({ dir, listen: config.store.fs.listen, logger: options.logger });
    stack.push(() => server.close());
    url = server.url;
    // With port 0 in store.fs.listen, only the running server knows its address.
    if (config.store.publicUrl === undefined) base = server.url;
  }
  const store = await openConfiguredStore(options.loaded, options.env, base);
  stack.push(() => store.close());
  return { store, ...(url ? { url } : {}) };
}

/** The webhook secret, or a ConfigError naming `webhook.secret` when it is not configured. */
export function webhookSecret(
  loaded: LoadedConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const ref = loaded.config.webhook.secret;
  if (ref === undefined) {
    throw new ConfigError(loaded.source, [
      "webhook.secret: required, the webhook verifies every delivery's X-Hub-Signature-256 with it; set it to a string, {file: PATH} or {env: NAME}",
    ]);
  }
  return resolveSecret(ref, "webhook.secret", { env, baseDir: loaded.baseDir });
}

export async function startServices(options: ServiceOptions): Promise<RunningServices> {
  const { config } = options.loaded;
  const { roles, logger } = options;
  const stack = new Stack();
  try {
    const insecure = config.webhook.insecureNoSignature;
    const secret = !roles.webhook
      ? undefined
      : insecure && config.webhook.secret === undefined
        ? ""
        : webhookSecret(options.loaded, options.env);
    const queue = await openConfiguredQueue(options.loaded, options.env, logger.child({ part: "queue" }));
    stack.push(() => queue.close());

    const events = new JobEventPublisher(queue, config.queue.names.events, logger.child({ part: "events" }));
    const timings = {
      heartbeatMs: config.worker.heartbeatSeconds * 1000,
      maxAttempts: 1 + config.worker.retries,
    };

    let forge: Forge | undefined;
    let hooks: HookDeliveries | undefined;
    let projects: ProjectForges | undefined;
    if (roles.scan || roles.run || roles.record) {
      const app = configuredApp(options.loaded, options.env);
      const token = resolveOptionalSecret(
        config.forge.github.token,
        "forge.github.token",
        secretContext(options),
      );
      const configured = createForge({
        api: config.forge.github.api,
        token,
        post: config.forge.github.post,
        logger: logger.child({ part: "forge" }),
        fetch: app?.fetch,
        timeoutMs: config.forge.github.timeoutSeconds * 1000,
        outbox: configPath(options.loaded, config.forge.github.outbox),
      });
      stack.push(() => configured.close());
      forge = instrumentForge(configured);
      hooks = configured;
      projects = projectForges({ loaded: options.loaded, env: options.env, logger, github: forge, app });
      forge = projects.forge;
    }

    const { store, url: storeUrl } =
      roles.run || roles.storeServer || roles.record ? await startStore(options, stack) : {};

    let jobs: JobHistory | undefined;
    if (roles.record && forge && store) {
      const recorder = await startRecorder({
        queue,
        eventsQueue: config.queue.names.events,
        database: jobsDatabasePath(options.loaded),
        store,
        forge,
        logger: logger.child({ part: "record" }),
        lostAfterMs: Math.max(config.worker.lostAfterSeconds * 1000, 2 * timings.heartbeatMs),
        ...timings,
      });
      stack.push(() => recorder.stop());
      jobs = recorder.history;
    }

    let webhookUrl: string | undefined;
    if (secret !== undefined) {
      const webhook = await startWebhookServer({
        config,
        secret,
        queue,
        logger: logger.child({ part: "webhook" }),
        spoolDir: configPath(options.loaded, config.webhook.spool.dir),
      });
      stack.push(() => webhook.close());
      webhookUrl = webhook.url;
    }

    if (roles.scan && forge) {
      const scanner: Consumer = await startScanner({
        config,
        queue,
        forge,
        logger: logger.child({ part: "scan" }),
      });
      stack.push(() => scanner.cancel());
      const reconciler = startReconciler({
        config,
        queue,
        forge,
        ...(hooks ? { hooks } : {}),
        logger: logger.child({ part: "reconcile" }),
      });
      stack.push(() => reconciler.stop());
      if (projects) {
        const scheduler = startScheduler({
          config,
          queue,
          forge: projects.forge,
          logger: logger.child({ part: "schedule" }),
        });
        stack.push(() => scheduler.stop());
      }
    }

    let worker: RunningWorker | undefined;
    if (roles.run && forge && store) {
      const workDir = config.worker.workDir
        ? configPath(options.loaded, config.worker.workDir)
        : join(tmpdir(), "hangar-work");
      await mkdir(workDir, { recursive: true });
      const cloneToken = resolveOptionalSecret(
        config.forge.github.token,
        "forge.github.token",
        secretContext(options),
      );
      const runLogger = logger.child({ part: "run" });
      // Start on what the config asserts; probes (seconds long) add their capabilities' queues when done.
      const capabilities = [...config.worker.capabilities];
      const running = await startWorker({
        forge,
        store,
        queue,
        executor: createExecutor(options.loaded, runLogger),
        logger: runLogger,
        worker: workerName(config),
        workDir,
        cloneBase: cloneBase(options.loaded),
        ...(projects ? { cloneToken: projects.cloneToken } : cloneToken ? { cloneToken } : {}),
        cloneBaseFor: (repo: string) => cloneBaseOf(config, repo) ?? cloneBase(options.loaded),
        secrets: workerSecrets(options),
        defaultTimeout: config.worker.defaultTimeout,
        capabilities,
        queues: workerQueues(config, capabilities),
        concurrency: config.worker.concurrency,
        events,
        ...timings,
        shutdownGraceMs: config.worker.shutdownGraceSeconds * 1000,
        supersededCheckMs: config.worker.supersededCheckSeconds * 1000,
      });
      worker = running;
      stack.push(() => running.stop());
      void detectCapabilities(config, { cacheDir: join(workDir, "probes"), logger: runLogger })
        .then((found) => running.extend(found.capabilities, workerQueues(config, found.capabilities)))
        .catch((error: unknown) => runLogger.error({ err: String(error) }, "capability probes failed"));
    }

    let dashboardUrl: string | undefined;
    if (config.dashboard.listen !== undefined) {
      let history = jobs;
      if (history === undefined) {
        // Not the recording process: read the recorder's database file.
        const database = new JobDatabase(jobsDatabasePath(options.loaded));
        stack.push(async () => database.close());
        history = database;
      }
      const dashboard = await startConfiguredDashboard({
        ...options,
        logger: logger.child({ part: "dashboard" }),
        queue,
        history,
        ...(store ? { store } : {}),
        ...(forge ? { forge } : {}),
      });
      if (dashboard) {
        stack.push(() => dashboard.close());
        dashboardUrl = dashboard.url;
      }
    }

    return {
      queue,
      ...(forge ? { forge } : {}),
      ...(store ? { store } : {}),
      ...(worker ? { worker } : {}),
      ...(jobs ? { jobs } : {}),
      ...(webhookUrl ? { webhookUrl } : {}),
      ...(storeUrl ? { storeUrl } : {}),
      ...(dashboardUrl ? { dashboardUrl } : {}),
      stop: () => stack.unwind(),
    };
  } catch (error) {
    await stack.unwind();
    throw error;
  }
}
