/**
 * A whole deployment for end-to-end tests: the GitHub emulator in this
 * process, `hangar serve` as a real child process with a config written to
 * the documented schema, everything in a temp dir removed afterwards.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { ConfigInput } from "../../src/config/index.js";
import { type Emulator, type PostedStatus, startEmulator } from "../../src/emulator/index.js";

export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface Deployment {
  readonly dir: string;
  /**
   * A directory trusted jobs may write (worker.sandbox.trustedPaths) and the test reads: the
   * sandbox hides everything else of the deployment, the test's markers included.
   */
  readonly exchange: string;
  readonly emulator: Emulator;
  readonly configFile: string;
  readonly secret: string;
  webhookUrl: string;
  storeUrl: string;
  /** Log lines (pino JSON objects) `hangar serve` wrote so far. */
  readonly logs: Record<string, unknown>[];
  /** SIGKILL hangar serve, as a crash would. */
  kill(): Promise<void>;
  /** Start hangar serve again on the same config and state. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** store: optional, the fs store on a free port when absent; queue: optional, SQLite when absent. */
export type DeploymentConfig = Pick<
  ConfigInput,
  "projects" | "trust" | "worker" | "store" | "queue" | "dashboard"
>;

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Statuses of one context, oldest first, once `done` says the sequence is complete. */
export function waitForStatuses(
  deployment: Deployment,
  repo: string,
  sha: string,
  context: string,
  done: (statuses: PostedStatus[]) => boolean,
  timeoutMs = 30_000,
): Promise<PostedStatus[]> {
  return waitFor(
    `statuses of ${context} on ${repo}@${sha.slice(0, 8)}`,
    async () => {
      const statuses = (await deployment.emulator.statuses(repo, sha)).filter((s) => s.context === context);
      return done(statuses) ? statuses : undefined;
    },
    timeoutMs,
  );
}

export const isFinal = (statuses: PostedStatus[]) => statuses.some((s) => s.state !== "pending");

function spawnServe(
  configFile: string,
  logs: Record<string, unknown>[],
): Promise<{ child: ChildProcess; webhook: string; store: string }> {
  const child = spawn(process.execPath, [CLI, "serve", "--config", configFile], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
    const early = (code: number | null) =>
      reject(
        new Error(`hangar serve exited with ${code} before it was up: ${JSON.stringify(logs.slice(-5))}`),
      );
    child.once("exit", early);
    lines.on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line };
      }
      logs.push(entry);
      if (entry.msg === "hangar is up") {
        child.off("exit", early);
        resolve({ child, webhook: String(entry.webhook), store: String(entry.store) });
      }
    });
  });
}

/** On RabbitMQ, scan and the worker share a signing key, as a deployment's do (SQLite makes its own). */
function signed(queue: NonNullable<ConfigInput["queue"]>): NonNullable<ConfigInput["queue"]> {
  if (queue.driver !== "amqp" || queue.signingKey !== undefined) return queue;
  return { ...queue, signingKey: randomBytes(24).toString("hex") };
}

export async function startDeployment(settings: DeploymentConfig): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), "hangar-e2e-"));
  const secret = randomBytes(16).toString("hex");
  const token = randomBytes(16).toString("hex");
  writeFileSync(join(dir, "webhook-secret"), `${secret}\n`, { mode: 0o600 });
  const exchange = join(dir, "exchange");
  mkdirSync(exchange);
  // The sandbox's uid writes here; the deployment directory itself stays the worker's (0700).
  chmodSync(exchange, 0o1777);
  writeFileSync(join(dir, "github-token"), `${token}\n`, { mode: 0o600 });
  const emulator = await startEmulator({ dir: join(dir, "git"), token });
  const config: ConfigInput = {
    webhook: { listen: "127.0.0.1:0", secret: { file: "webhook-secret" } },
    queue: signed(settings.queue ?? { driver: "sqlite", sqlite: { path: "queue.sqlite" } }),
    forge: { github: { api: emulator.url, clone: "git", token: { file: "github-token" } } },
    store: settings.store ?? { driver: "fs", fs: { dir: "store", listen: "127.0.0.1:0" } },
    worker: {
      name: "e2e-worker",
      workDir: "work",
      ...settings.worker,
      sandbox: { trustedPaths: [exchange], ...settings.worker?.sandbox },
    },
    projects: settings.projects ?? {},
    trust: settings.trust ?? { users: [] },
    ...(settings.dashboard ? { dashboard: settings.dashboard } : {}),
    log: { level: "info" },
  };
  const configFile = join(dir, "hangar.yaml");
  writeFileSync(configFile, stringify(config));

  const logs: Record<string, unknown>[] = [];
  let child: ChildProcess | undefined;
  const deployment: Deployment = {
    dir,
    exchange,
    emulator,
    configFile,
    secret,
    webhookUrl: "",
    storeUrl: "",
    logs,
    async restart() {
      const started = await spawnServe(configFile, logs);
      child = started.child;
      deployment.webhookUrl = started.webhook;
      deployment.storeUrl = started.store;
      await emulator.setWebhook({ url: started.webhook, secret });
    },
    async kill() {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGKILL");
      await exited;
    },
    async stop() {
      const running = child;
      if (running && running.exitCode === null && running.signalCode === null) {
        const exited = new Promise((resolve) => running.once("exit", resolve));
        running.kill("SIGTERM");
        await exited;
      }
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await deployment.restart();
  return deployment;
}

export const sh = (script: string) => ({ content: `#!/bin/sh\nset -eu\n${script}\n`, executable: true });

/** What a clean run posts for a context: exactly these three statuses, in this order. */
export function cleanRun(worker = "e2e-worker"): [string, string][] {
  return [
    ["pending", "Not yet tested"],
    ["pending", `In progress [${worker}]`],
    ["success", `Success [${worker}]`],
  ];
}
