/** Scheduled runs: cron times, jobs queued on a branch's head, and the one issue per failing context. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ConfigError, parseConfig, queueLayout } from "../../src/config/index.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { GitHubExtras } from "../../src/forge/extras.js";
import { createForge } from "../../src/forge/index.js";
import { openQueue } from "../../src/queue/index.js";
import { parseTaskEntry } from "../../src/queue/messages.js";
import type { QueueBackend } from "../../src/queue/types.js";
import { nextRun } from "../../src/schedule/cron.js";
import { type Scheduler, startScheduler } from "../../src/schedule/scheduler.js";
import { silentLogger } from "../../src/util/logger.js";

const REPO = "acme/nightly";
const dir = mkdtempSync(join(tmpdir(), "hangar-schedule-"));
let emulator: Emulator;
let queue: QueueBackend;
let scheduler: Scheduler;

const loaded = parseConfig(
  {
    projects: {
      [REPO]: {
        branches: { main: ["debian/unit"], _manual: ["image/refresh"] },
        schedules: [
          { cron: "0 3 * * *", branch: "main", contexts: ["image/refresh"] },
          { cron: "30 1 * * 1", branch: "main" },
        ],
      },
    },
  },
  "test",
  dir,
);

interface IssueJson {
  number: number;
  title: string;
  body: string;
  state: string;
}

async function issues(): Promise<IssueJson[]> {
  const response = await fetch(`${emulator.url}/repos/${REPO}/issues?state=all`);
  return ((await response.json()) as (IssueJson & { pull_request?: unknown })[]).filter(
    (i) => !i.pull_request,
  );
}

async function comments(issue: number): Promise<string[]> {
  const response = await fetch(`${emulator.url}/repos/${REPO}/issues/${issue}/comments`);
  return ((await response.json()) as { body: string }[]).map((c) => c.body);
}

before(async () => {
  emulator = await startEmulator({ dir: join(dir, "git") });
  await emulator.createRepo({ repo: REPO, files: { "README.md": "n\n" } });
  queue = await openQueue({
    driver: "sqlite",
    path: join(dir, "queue.sqlite"),
    layout: queueLayout(loaded.config),
    logger: silentLogger(),
  });
  const forge = createForge({ api: emulator.url, post: true, logger: silentLogger() });
  const extras = new GitHubExtras({ api: emulator.url });
  scheduler = startScheduler({
    config: loaded.config,
    queue,
    forge: Object.assign(Object.create(forge) as typeof forge, {
      branchHead: extras.branchHead.bind(extras),
      findOpenIssue: extras.findOpenIssue.bind(extras),
      closeIssue: extras.closeIssue.bind(extras),
    }),
    logger: silentLogger(),
    pollMs: 60_000,
  });
});
after(async () => {
  await scheduler.stop();
  await queue.close();
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("cron", () => {
  test("the next time a five-field expression names, in UTC or a given zone", () => {
    const after = new Date("2024-05-06T02:59:00Z");
    assert.equal(nextRun("0 3 * * *", after).toISOString(), "2024-05-06T03:00:00.000Z");
    assert.equal(
      nextRun("0 3 * * *", new Date("2024-05-06T03:00:00Z")).toISOString(),
      "2024-05-07T03:00:00.000Z",
    );
    assert.equal(nextRun("0 3 * * *", after, "Europe/Berlin").toISOString(), "2024-05-07T01:00:00.000Z");
  });

  test("the config refuses what is not a five-field cron expression", () => {
    for (const cron of ["every night", "0 3 * *", "61 3 * * *"]) {
      assert.throws(
        () => parseConfig({ projects: { "a/b": { schedules: [{ cron, branch: "main" }] } } }, "test", dir),
        (error: unknown) => error instanceof ConfigError && /cron expression/.test(error.message),
        cron,
      );
    }
  });
});

describe("scheduled runs", () => {
  async function takeJob(queueName: string) {
    let body: Buffer | undefined;
    const consumer = await queue.consume(queueName, async (delivery) => {
      body ??= delivery.body;
      await delivery.ack();
    });
    const deadline = Date.now() + 10_000;
    while (body === undefined && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await consumer.cancel();
    assert.ok(body, `a job in ${queueName}`);
    const entry = parseTaskEntry(body, queueName);
    assert.equal(entry.kind, "job");
    return entry.kind === "job" ? entry.job : undefined;
  }

  /** What a worker would post for the job: its result, with the log URL naming its slug. */
  async function finish(
    job: { sha: string; context: string; slug?: string | null },
    state: "success" | "failure",
  ) {
    await createForge({ api: emulator.url, post: true, logger: silentLogger() }).postStatus(REPO, job.sha, {
      context: job.context,
      state,
      description: state === "success" ? "Success [w]" : "Failed (exit code 1) [w]",
      target_url: `http://store.example/${job.slug}/`,
    });
  }

  test("a failure opens one issue, a further failure comments, a pass closes it", async () => {
    const head = await createForge({ api: emulator.url, post: true, logger: silentLogger() }).getStatuses(
      REPO,
      "main",
    );
    assert.equal(head.size, 0);
    const [run] = await scheduler.fire(REPO, 0);
    assert.equal(run?.context, "image/refresh", "a _manual context may be scheduled");
    const job = await takeJob("public");
    assert.equal(job?.context, "image/refresh");
    assert.equal(job?.pull, null);
    assert.equal(job?.env?.BASE_BRANCH, "main");
    assert.deepEqual(job?.report, { schedule: "0 3 * * *", branch: "main" });
    const statuses = await emulator.statuses(REPO, job?.sha ?? "");
    assert.deepEqual(
      statuses.map((s) => [s.context, s.description]),
      [["image/refresh", "Not yet tested"]],
    );

    await scheduler.check();
    assert.equal(scheduler.pending.length, 1, "no result yet");
    await finish(job as never, "failure");
    await scheduler.check();
    assert.equal(scheduler.pending.length, 0);
    let found = await issues();
    assert.equal(found.length, 1);
    assert.equal(found[0]?.title, "Scheduled run of image/refresh on main fails");
    assert.match(found[0]?.body ?? "", new RegExp(`store.example/${job?.slug}/`));

    await scheduler.fire(REPO, 0);
    const second = await takeJob("public");
    // The earlier failure on the same commit is not this run's result.
    await scheduler.check();
    assert.equal(scheduler.pending.length, 1);
    await finish(second as never, "failure");
    await scheduler.check();
    found = await issues();
    assert.equal(found.length, 1, "still one issue");
    assert.match((await comments(found[0]?.number ?? 0))[0] ?? "", /Still failing/);

    await scheduler.fire(REPO, 0);
    const third = await takeJob("public");
    await finish(third as never, "success");
    await scheduler.check();
    found = await issues();
    assert.equal(found[0]?.state, "closed");
    assert.match((await comments(found[0]?.number ?? 0)).at(-1) ?? "", /Passes again/);
  });

  test("without contexts, a schedule runs the branch's contexts", async () => {
    const runs = await scheduler.fire(REPO, 1);
    assert.deepEqual(
      runs.map((r) => r.context),
      ["debian/unit"],
    );
    const job = await takeJob("public");
    assert.equal(job?.context, "debian/unit");
    await finish(job as never, "success");
    await scheduler.check();
    assert.equal(scheduler.pending.length, 0);
  });
});
