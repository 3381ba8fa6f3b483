/**
 * Graceful shutdown: on SIGTERM a worker takes no more work and lets running
 * jobs finish within worker.shutdownGraceSeconds; after that it cancels them
 * ("Cancelled" on GitHub) and returns their entries, which run again later.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { ConfigInput } from "../../src/config/index.js";
import { isProcessAlive } from "../../src/util/process.js";
import { processesWith, uniqueSleep } from "../fixtures/host-process.js";
import { writeWorkerConfig } from "../fixtures/worker-process.js";
import { spawnWorker, type WorkerChild } from "../jobs/fixtures/worker.js";
import { type Deployment, isFinal, sh, startDeployment, waitFor, waitForStatuses } from "./harness.js";

describe("graceful shutdown", () => {
  let deployment: Deployment | undefined;
  const workers: WorkerChild[] = [];
  after(async () => {
    for (const worker of workers) await worker.kill();
    await deployment?.stop();
  });

  async function worker(name: string, settings: ConfigInput["worker"]): Promise<WorkerChild> {
    const file = writeWorkerConfig(deployment as Deployment, name, {
      name,
      workDir: `work-${name}`,
      heartbeatSeconds: 1,
      ...settings,
    });
    const started = await spawnWorker(file);
    workers.push(started);
    return started;
  }

  test("a job still running when the grace period ends is cancelled, requeued and later succeeds", async () => {
    // hangar serve runs only the internal queue: public jobs go to the workers started here.
    deployment = await startDeployment({
      projects: {
        "acme/slow": { branches: { main: ["unit"] } },
        "acme/quick": { branches: { main: ["unit"] } },
      },
      trust: { users: ["alice"] },
      worker: { queues: ["internal"], heartbeatSeconds: 1 },
    });
    const marker = join(deployment.exchange, "slow-first-run");
    const firstSleep = uniqueSleep(120);
    await deployment.emulator.createRepo({
      repo: "acme/slow",
      files: {
        ".hangar/run": sh(
          `if [ -e ${marker} ]; then echo "second run"; exit 0; fi\necho started > ${marker}\necho "first run"\nsleep ${firstSleep}`,
        ),
      },
    });
    const a = await worker("worker-a", { shutdownGraceSeconds: 1 });
    const pull = await deployment.emulator.openPull({
      repo: "acme/slow",
      author: "alice",
      files: { x: "1\n" },
    });
    await waitFor("the first run to start", async () =>
      existsSync(marker) && readFileSync(marker, "utf8").trim() ? true : undefined,
    );
    // The job's own pid is its sandbox's; its host pid is found by the sleep's unique argument.
    const firstRun = await waitFor(
      "the first run's process",
      async () => (await processesWith(firstSleep))[0],
    );
    a.child.kill("SIGTERM");
    await a.exited;
    assert.equal(isProcessAlive(firstRun), false, "the cancelled job's process is gone");
    const cancelled = await deployment.emulator.statuses("acme/slow", pull.sha);
    assert.deepEqual(
      cancelled.map((s) => [s.state, s.description]),
      [
        ["pending", "Not yet tested"],
        ["pending", "In progress [worker-a]"],
        ["error", "Cancelled"],
      ],
    );

    await worker("worker-b", {});
    const statuses = await waitForStatuses(
      deployment,
      "acme/slow",
      pull.sha,
      "unit",
      (all) => all.at(-1)?.state === "success",
      60_000,
    );
    assert.deepEqual(
      statuses.slice(3).map((s) => [s.state, s.description]),
      [
        ["pending", "In progress [worker-b]"],
        ["success", "Success [worker-b]"],
      ],
    );
    const log = await (await fetch(new URL("log", statuses.at(-1)?.target_url ?? ""))).text();
    assert.match(log, /second run/);
  });

  test("a job that ends within the grace period reports its result, and the worker exits", async () => {
    const target = deployment as Deployment;
    const started = join(target.exchange, "quick-started");
    await target.emulator.createRepo({
      repo: "acme/quick",
      files: { ".hangar/run": sh(`touch ${started}\nsleep 2\necho "done in time"`) },
    });
    for (const running of workers) await running.kill();
    const c = await worker("worker-c", { shutdownGraceSeconds: 60 });
    const pull = await target.emulator.openPull({ repo: "acme/quick", author: "alice", files: { x: "1\n" } });
    await waitFor("the job to start", async () => (existsSync(started) ? true : undefined));
    c.child.kill("SIGTERM");
    await c.exited;
    const statuses = await waitForStatuses(target, "acme/quick", pull.sha, "unit", isFinal, 10_000);
    assert.deepEqual(
      statuses.map((s) => [s.state, s.description]),
      [
        ["pending", "Not yet tested"],
        ["pending", "In progress [worker-c]"],
        ["success", "Success [worker-c]"],
      ],
    );
  });
});
