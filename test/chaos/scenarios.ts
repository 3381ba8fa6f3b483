/** The fault scenarios of `npm run chaos` (and, smaller, of `npm test`). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { freePort, startRabbitNode } from "../../src/local/rabbit-node.js";
import { waitFor } from "../e2e/harness.js";
import { openPulls, runsStarted, type ScenarioResult, settle, startFleet } from "./fleet.js";
import { basePayload, mutatedRequest, random } from "./mutate.js";

export interface ChaosSize {
  readonly pulls: number;
  readonly outageMs: number;
  readonly mutations: number;
  readonly jobSeconds: number;
}

export const FULL: ChaosSize = { pulls: 20, outageMs: 10_000, mutations: 10_000, jobSeconds: 1 };
export const SHORT: ChaosSize = { pulls: 4, outageMs: 3_000, mutations: 1_000, jobSeconds: 1 };

/** The outage itself is timed: that is the fault being simulated, not a wait for a condition. */
const outage = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function workerKilled(size: ChaosSize): Promise<ScenarioResult> {
  const fleet = await startFleet({ jobSeconds: size.jobSeconds * 3 });
  try {
    const started = Date.now();
    const pulls = await openPulls(fleet, size.pulls);
    await waitFor("a job to be running", async () => (runsStarted(fleet) > 0 ? true : undefined));
    await fleet.deployment.kill();
    await fleet.deployment.restart();
    return await settle(fleet, "(a) worker SIGKILL mid-job", pulls, started);
  } finally {
    await fleet.stop();
  }
}

export async function brokerRestart(size: ChaosSize): Promise<ScenarioResult> {
  const dir = await mkdtemp(join(tmpdir(), "hangar-chaos-rabbit-"));
  const port = await freePort();
  const node = await startRabbitNode({
    dir,
    config: () => `listeners.tcp.default = 127.0.0.1:${port}\nlisteners.ssl = none\nloopback_users = none\n`,
    enabledPlugins: "[].",
  });
  try {
    const fleet = await startFleet({
      jobSeconds: size.jobSeconds,
      queue: { driver: "amqp", amqp: { url: `amqp://guest:guest@127.0.0.1:${port}` } },
    });
    try {
      const started = Date.now();
      const spacing = Math.round((size.outageMs * 2) / size.pulls);
      const sending = openPulls(fleet, size.pulls, spacing);
      await outage(size.outageMs / 2);
      await node.ctl("stop_app");
      await outage(size.outageMs);
      await node.ctl("start_app");
      const pulls = await sending;
      return await settle(fleet, "(b) RabbitMQ stopped and started", pulls, started, { deadlineMs: 180_000 });
    } finally {
      await fleet.stop();
    }
  } finally {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function storeOutage(size: ChaosSize): Promise<ScenarioResult> {
  const dir = await mkdtemp(join(tmpdir(), "hangar-chaos-s3-"));
  const port = await freePort();
  const start = async () => {
    const server = new S3rver({ address: "127.0.0.1", port, silent: true, directory: dir });
    await server.run();
    return server;
  };
  const stop = async (server: S3rver) => {
    const closed = server.close();
    server.httpServer.closeAllConnections();
    await closed;
  };
  let server = await start();
  await fetch(`http://127.0.0.1:${port}/logs`, { method: "PUT" });
  try {
    const fleet = await startFleet({
      jobSeconds: size.jobSeconds * 2,
      store: {
        driver: "s3",
        s3: { url: `http://127.0.0.1:${port}/logs`, accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      },
    });
    try {
      const started = Date.now();
      const pulls = await openPulls(fleet, size.pulls);
      await waitFor("a job to be running", async () => (runsStarted(fleet) > 0 ? true : undefined));
      await stop(server);
      await outage(size.outageMs);
      server = await start();
      return await settle(fleet, "(c) store unreachable", pulls, started, { deadlineMs: 180_000 });
    } finally {
      await fleet.stop();
    }
  } finally {
    await stop(server);
    await rm(dir, { recursive: true, force: true });
  }
}

export async function githubFaults(size: ChaosSize): Promise<ScenarioResult> {
  const fleet = await startFleet({ jobSeconds: size.jobSeconds });
  const emulator = fleet.deployment.emulator;
  try {
    const started = Date.now();
    const pulls = await openPulls(fleet, size.pulls);
    await emulator.injectFault({ path: "**", status: 502, times: 1_000_000 });
    await outage(size.outageMs / 2);
    await emulator.clearFaults();
    await emulator.injectFault({
      path: "**",
      status: 429,
      headers: { "retry-after": "1" },
      times: 1_000_000,
    });
    await outage(size.outageMs / 2);
    await emulator.clearFaults();
    return await settle(fleet, "(d) GitHub answering 502 and 429", pulls, started, { deadlineMs: 180_000 });
  } finally {
    await fleet.stop();
  }
}

export async function mutatedInput(size: ChaosSize, seed = 20261126): Promise<ScenarioResult> {
  const fleet = await startFleet({ jobSeconds: size.jobSeconds });
  try {
    const started = Date.now();
    const next = random(seed);
    const base = basePayload();
    const counts = { answered: 0, accepted: 0, serverErrors: 0, unanswered: 0 };
    let sent = 0;
    const sender = async () => {
      while (sent < size.mutations) {
        sent++;
        const request = mutatedRequest(base, fleet.deployment.secret, next);
        try {
          const response = await fetch(fleet.deployment.webhookUrl, {
            method: "POST",
            headers: request.headers,
            body: request.body,
          });
          await response.arrayBuffer();
          counts.answered++;
          if (response.status < 300) counts.accepted++;
          if (response.status >= 500) counts.serverErrors++;
        } catch {
          counts.unanswered++;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    // After the storm, a real PR still goes through.
    const pulls = await openPulls(fleet, 1);
    const result = await settle(fleet, "(e) mutated and random webhooks", pulls, started);
    return {
      ...result,
      sent: size.mutations + 1,
      accepted: counts.accepted + result.accepted,
      serverErrors: counts.serverErrors + result.serverErrors,
      note: `${counts.answered} of ${size.mutations} mutants answered, ${counts.unanswered} unanswered (connection dropped), seed ${seed}`,
    };
  } finally {
    await fleet.stop();
  }
}

export const SCENARIOS = [workerKilled, brokerRestart, storeOutage, githubFaults, mutatedInput] as const;
