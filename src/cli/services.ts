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
  taskQueues,
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
import { signingQueue } from "../queue/signing.js";
import { loadSigningKey } from "../queue/signing-key.js";
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

/** What every role of one process shares. */
interface Shared {
  readonly options: ServiceOptions;
  readonly config: LoadedConfig["config"];
  readonly logger: Logger;
  readonly stack: Stack;
  readonly queue: QueueBackend;
  readonly events: JobEventPublisher;
  readonly timings: { readonly heartbeatMs: number; readonly maxAttempts: number };
  /** The key scan signs task entries with and workers check them with (queue/signing.ts). */
  readonly signingKey: string | undefined;
}

interface Forges {
  readonly forge: Forge;
  readonly hooks: HookDeliveries;
  readonly projects: ProjectForges;
}

/** The webhook secret this process needs: none without the webhook role, "" in explicit insecure mode. */
function secretForRoles(options: ServiceOptions): string | undefined {
  const { config } = options.loaded;
  if (!options.roles.webhook) return undefined;
  if (config.webhook.insecureNoSignature && config.webhook.secret === undefined) return "";
  return webhookSecret(options.loaded, options.env);
}

function startForges(shared: Shared): Forges {
  const { options, config, logger, stack } = shared;
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
  const projects = projectForges({
    loaded: options.loaded,
    env: options.env,
    logger,
    github: instrumentForge(configured),
    app,
  });
  return { forge: projects.forge, hooks: configured, projects };
}

async function startRecording(shared: Shared, forge: Forge, store: Store): Promise<JobHistory> {
  const { config, timings } = shared;
  const recorder = await startRecorder({
    queue: shared.queue,
    eventsQueue: config.queue.names.events,
    database: jobsDatabasePath(shared.options.loaded),
    store,
    forge,
    logger: shared.logger.child({ part: "record" }),
    lostAfterMs: Math.max(config.worker.lostAfterSeconds * 1000, 2 * timings.heartbeatMs),
    taskQueues: taskQueues(config),
    ...timings,
  });
  shared.stack.push(() => recorder.stop());
  return recorder.history;
}

async function startWebhook(shared: Shared, secret: string): Promise<string> {
  const webhook = await startWebhookServer({
    config: shared.config,
    secret,
    queue: shared.queue,
    logger: shared.logger.child({ part: "webhook" }),
    spoolDir: configPath(shared.options.loaded, shared.config.webhook.spool.dir),
  });
  shared.stack.push(() => webhook.close());
  return webhook.url;
}

/** Scan: webhook deliveries, reconciliation of open PRs, and scheduled runs. */
async function startScanning(shared: Shared, forges: Forges): Promise<void> {
  const { config, logger, stack } = shared;
  const { forge } = forges;
  // Every task entry scan, reconciliation and schedules publish is signed on its way into the queue.
  const queue = signingQueue(shared.queue, shared.signingKey);
  if (shared.signingKey === undefined)
    logger.warn(
      "no queue signing key (queue.signingKey): scan queues unsigned entries, which workers run untrusted",
    );
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
    hooks: forges.hooks,
    logger: logger.child({ part: "reconcile" }),
  });
  stack.push(() => reconciler.stop());
  const scheduler = startScheduler({
    config,
    queue,
    forge: forges.projects.forge,
    logger: logger.child({ part: "schedule" }),
  });
  stack.push(() => scheduler.stop());
}

async function startRunning(shared: Shared, forges: Forges, store: Store): Promise<RunningWorker> {
  const { options, config, logger } = shared;
  const workDir = config.worker.workDir
    ? configPath(options.loaded, config.worker.workDir)
    : join(tmpdir(), "hangar-work");
  await mkdir(workDir, { recursive: true });
  const runLogger = logger.child({ part: "run" });
  // Start on what the config asserts; probes (seconds long) add their capabilities' queues when done.
  const capabilities = [...config.worker.capabilities];
  const running = await startWorker({
    forge: forges.forge,
    store,
    queue: shared.queue,
    executor: createExecutor(options.loaded, runLogger, { workDir }),
    logger: runLogger,
    worker: workerName(config),
    workDir,
    cloneBase: cloneBase(options.loaded),
    cloneToken: forges.projects.cloneToken,
    cloneBaseFor: (repo: string) => cloneBaseOf(config, repo) ?? cloneBase(options.loaded),
    secrets: workerSecrets(options),
    entries: {
      ...(shared.signingKey !== undefined ? { signingKey: shared.signingKey } : {}),
      unsigned: config.worker.unsignedEntries,
    },
    defaultTimeout: config.worker.defaultTimeout,
    capabilities,
    queues: workerQueues(config, capabilities),
    concurrency: config.worker.concurrency,
    events: shared.events,
    ...shared.timings,
    shutdownGraceMs: config.worker.shutdownGraceSeconds * 1000,
    supersededCheckMs: config.worker.supersededCheckSeconds * 1000,
  });
  shared.stack.push(() => running.stop());
  void detectCapabilities(config, { cacheDir: join(workDir, "probes"), logger: runLogger })
    .then((found) => running.extend(found.capabilities, workerQueues(config, found.capabilities)))
    .catch((error: unknown) => runLogger.error({ err: String(error) }, "capability probes failed"));
  return running;
}

/** The dashboard, when `dashboard.listen` is set; returns its URL. */
async function startDashboardRole(
  shared: Shared,
  parts: { jobs?: JobHistory | undefined; store?: Store | undefined; forge?: Forge | undefined },
): Promise<string | undefined> {
  const { options, stack } = shared;
  if (shared.config.dashboard.listen === undefined) return undefined;
  let history = parts.jobs;
  if (history === undefined) {
    // Not the recording process: read the recorder's database file.
    const database = new JobDatabase(jobsDatabasePath(options.loaded));
    stack.push(async () => database.close());
    history = database;
  }
  const dashboard = await startConfiguredDashboard({
    ...options,
    logger: shared.logger.child({ part: "dashboard" }),
    queue: shared.queue,
    history,
    ...(parts.store ? { store: parts.store } : {}),
    ...(parts.forge ? { forge: parts.forge } : {}),
  });
  if (!dashboard) return undefined;
  stack.push(() => dashboard.close());
  return dashboard.url;
}

export async function startServices(options: ServiceOptions): Promise<RunningServices> {
  const { config } = options.loaded;
  const { roles, logger } = options;
  const stack = new Stack();
  try {
    const secret = secretForRoles(options);
    const queue = await openConfiguredQueue(options.loaded, options.env, logger.child({ part: "queue" }));
    stack.push(() => queue.close());
    const shared: Shared = {
      options,
      config,
      logger,
      stack,
      queue,
      events: new JobEventPublisher(queue, config.queue.names.events, logger.child({ part: "events" })),
      timings: { heartbeatMs: config.worker.heartbeatSeconds * 1000, maxAttempts: 1 + config.worker.retries },
      signingKey: roles.scan || roles.run ? loadSigningKey(options.loaded, options.env).key : undefined,
    };

    const forges = roles.scan || roles.run || roles.record ? startForges(shared) : undefined;
    const { store, url: storeUrl } =
      roles.run || roles.storeServer || roles.record ? await startStore(options, stack) : {};
    const jobs =
      roles.record && forges && store ? await startRecording(shared, forges.forge, store) : undefined;
    const webhookUrl = secret !== undefined ? await startWebhook(shared, secret) : undefined;
    if (roles.scan && forges) await startScanning(shared, forges);
    const worker = roles.run && forges && store ? await startRunning(shared, forges, store) : undefined;
    const dashboardUrl = await startDashboardRole(shared, { jobs, store, forge: forges?.forge });

    return {
      queue,
      ...(forges ? { forge: forges.forge } : {}),
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
