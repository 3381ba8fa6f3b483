/**
 * Job states through a whole deployment: a worker that stops heartbeating
 * (SIGSTOP) is declared lost, its job requeued as attempt 2 and finished by
 * another worker; the frozen worker, resumed, reports nothing. An
 * infrastructure failure is retried up to worker.retries; a test failure never.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { JobDatabase } from "../../src/jobs/database.js";
import { writeWorkerConfig } from "../fixtures/worker-process.js";
import { spawnWorker, type WorkerChild } from "../jobs/fixtures/worker.js";
import { type Deployment, isFinal, sh, startDeployment, waitFor, waitForStatuses } from "./harness.js";

const timings = { heartbeatSeconds: 1, lostAfterSeconds: 4 };

describe("a worker that stops heartbeating", () => {
  let deployment: Deployment | undefined;
  const workers: WorkerChild[] = [];
  after(async () => {
    for (const worker of workers) await worker.kill();
    await deployment?.stop();
  });

  test("is declared lost within a minute; the job runs again elsewhere; the frozen worker reports nothing", async () => {
    // hangar serve records and monitors, but runs only the internal queue: public jobs go to worker-a/b.
    deployment = await startDeployment({
      projects: { "acme/lost": { branches: { main: ["unit"] } } },
      trust: { users: ["alice"] },
      worker: { queues: ["internal"], ...timings },
    });
    const marker = join(deployment.exchange, "first-run");
    await deployment.emulator.createRepo({
      repo: "acme/lost",
      files: {
        ".hangar/run": sh(
          `if [ -e ${marker} ]; then echo "second run"; exit 0; fi\necho $$ > ${marker}\necho "first run"\nsleep 6\nexit 3`,
        ),
      },
    });
    const workerConfig = (name: string) =>
      writeWorkerConfig(deployment as Deployment, name, { name, workDir: `work-${name}`, ...timings });
    const a = await spawnWorker(workerConfig("worker-a"));
    workers.push(a);
    const pull = await deployment.emulator.openPull({
      repo: "acme/lost",
      author: "alice",
      files: { x: "1\n" },
    });
    await waitFor("the first run to start", async () => (existsSync(marker) ? true : undefined));
    process.kill(a.pid, "SIGSTOP");
    const frozenAt = Date.now();
    const b = await spawnWorker(workerConfig("worker-b"));
    workers.push(b);

    const statuses = await waitForStatuses(deployment, "acme/lost", pull.sha, "unit", isFinal, 90_000);
    const retry = statuses.find((s) => s.description?.startsWith("Retrying"));
    assert.ok(retry, "a retry status was posted");
    assert.ok(Date.now() - frozenAt < 60_000, "lost and requeued within a minute");
    assert.deepEqual(
      statuses.map((s) => [s.state, s.description]),
      [
        ["pending", "Not yet tested"],
        ["pending", "In progress [worker-a]"],
        ["pending", "Retrying after worker worker-a lost (attempt 2 of 3)"],
        ["pending", "In progress [worker-b]"],
        ["success", "Success [worker-b]"],
      ],
    );
    const log = await (await fetch(new URL("log", statuses.at(-1)?.target_url ?? ""))).text();
    assert.match(log, /second run/);

    // Resumed, worker-a sees its attempt was retired: it posts nothing and settles its entry.
    process.kill(a.pid, "SIGCONT");
    const finished = await a.logged("job finished", {}, 60_000);
    assert.equal(finished.posted, null);
    const after = await deployment.emulator.statuses("acme/lost", pull.sha);
    assert.equal(after.filter((s) => s.context === "unit").length, statuses.length);

    const jobs = new JobDatabase(join(deployment.dir, "hangar-jobs.sqlite"));
    try {
      const record = await waitFor("the job record to say done", async () => {
        const [job] = await jobs.listJobs({ repo: "acme/lost" });
        return job?.state === "done" ? job : undefined;
      });
      assert.equal(record.attempt, 2);
      assert.equal(record.result, "success");
      assert.equal(record.worker, "worker-b");
      assert.equal(readFileSync(marker, "utf8").trim() !== "", true);
    } finally {
      jobs.close();
    }
  });
});

describe("infrastructure failures and test failures", () => {
  let deployment: Deployment | undefined;
  after(() => deployment?.stop());

  test("a job that cannot start is retried twice, then reported; a failing test is not retried", async () => {
    deployment = await startDeployment({
      projects: {
        "acme/infra": {
          branches: {
            main: [
              { name: "unstartable", command: [join("/nonexistent", "hangar-tool")] },
              { name: "failing", command: ["sh", "-c", "echo failing; exit 1"] },
            ],
          },
        },
      },
      trust: { users: ["alice"] },
      worker: timings,
    });
    await deployment.emulator.createRepo({ repo: "acme/infra", files: { README: "infra\n" } });
    const pull = await deployment.emulator.openPull({
      repo: "acme/infra",
      author: "alice",
      files: { x: "1\n" },
    });
    const unstartable = await waitForStatuses(
      deployment,
      "acme/infra",
      pull.sha,
      "unstartable",
      isFinal,
      60_000,
    );
    assert.deepEqual(
      unstartable.map((s) => [s.state, s.description]),
      [
        ["pending", "Not yet tested"],
        ["pending", "In progress [e2e-worker]"],
        ["pending", "Retrying after the job could not start (attempt 2 of 3)"],
        ["pending", "In progress [e2e-worker]"],
        ["pending", "Retrying after the job could not start (attempt 3 of 3)"],
        ["pending", "In progress [e2e-worker]"],
        ["error", "Internal error: the job could not start (3 attempts) [e2e-worker]"],
      ],
    );
    const failing = await waitForStatuses(deployment, "acme/infra", pull.sha, "failing", isFinal, 60_000);
    assert.deepEqual(
      failing.map((s) => [s.state, s.description]),
      [
        ["pending", "Not yet tested"],
        ["pending", "In progress [e2e-worker]"],
        ["failure", "Failed (exit code 1) [e2e-worker]"],
      ],
    );
    for (const status of [...unstartable, ...failing]) assert.ok((status.description ?? "").length <= 140);
  });
});

describe("a cancel request from the dashboard", () => {
  let deployment: Deployment | undefined;
  after(() => deployment?.stop());

  test("stops the running job with Cancelled, for good", async () => {
    deployment = await startDeployment({
      projects: { "acme/cancel": { branches: { main: ["unit"] } } },
      trust: { users: ["alice"] },
      worker: timings,
    });
    const started = join(deployment.exchange, "cancel-started");
    await deployment.emulator.createRepo({
      repo: "acme/cancel",
      files: { ".hangar/run": sh(`touch ${started}\nsleep 120`) },
    });
    const pull = await deployment.emulator.openPull({
      repo: "acme/cancel",
      author: "alice",
      files: { x: "1\n" },
    });
    await waitFor("the job to run", async () => (existsSync(started) ? true : undefined));
    const inProgress = (await deployment.emulator.statuses("acme/cancel", pull.sha)).at(-1);
    const slug = new URL(inProgress?.target_url ?? "").pathname.split("/").filter(Boolean).at(-2) ?? "";
    const marker = join(deployment.dir, "store", "hangar-control", "cancel", slug);
    mkdirSync(dirname(marker), { recursive: true });
    writeFileSync(marker, "{}\n");
    const statuses = await waitForStatuses(deployment, "acme/cancel", pull.sha, "unit", isFinal, 30_000);
    assert.deepEqual(statuses.at(-1)?.description, "Cancelled");
    const jobs = new JobDatabase(join(deployment.dir, "hangar-jobs.sqlite"));
    try {
      const record = await waitFor("the record to say cancelled", async () => {
        const job = await jobs.getJob(slug);
        return job?.state === "cancelled" ? job : undefined;
      });
      assert.equal(record.result, "error");
    } finally {
      jobs.close();
    }
  });
});
