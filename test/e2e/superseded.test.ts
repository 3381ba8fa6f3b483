/**
 * Superseded work: when a PR's head moves, its running job is stopped with
 * "Superseded by <sha>", and a job still queued for the old revision is
 * dropped without running (never counted as lost); the new head is tested.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { JobDatabase } from "../../src/jobs/database.js";
import { type Deployment, isFinal, sh, startDeployment, waitFor, waitForStatuses } from "./harness.js";

let deployment: Deployment | undefined;
after(() => deployment?.stop());

test("a push to the PR stops its running job and drops its queued one; the new head is tested", async () => {
  deployment = await startDeployment({
    projects: { "acme/moving": { branches: { main: ["first", "second"] } } },
    trust: { users: ["alice"] },
    worker: { concurrency: 1, supersededCheckSeconds: 1, heartbeatSeconds: 1 },
  });
  const started = join(deployment.exchange, "old-head-started");
  // The old head's jobs hang; the new head (which adds `moved`) passes at once.
  await deployment.emulator.createRepo({
    repo: "acme/moving",
    files: {
      ".hangar/run": sh(`if [ -e moved ]; then echo "new head"; exit 0; fi\ntouch ${started}\nsleep 120`),
    },
  });
  const pull = await deployment.emulator.openPull({
    repo: "acme/moving",
    author: "alice",
    files: { x: "1\n" },
  });
  await waitFor("the first job to run on the old head", async () => (existsSync(started) ? true : undefined));
  const pushed = await deployment.emulator.pushToPull({
    repo: "acme/moving",
    number: pull.number,
    files: { moved: "yes\n" },
  });
  const superseded = `Superseded by ${pushed.sha.slice(0, 7)}`;

  const oldStatuses = async (context: string) =>
    (await waitForStatuses(deployment as Deployment, "acme/moving", pull.sha, context, isFinal, 60_000)).map(
      (s) => [s.state, s.description],
    );
  const running = await oldStatuses("first");
  const queued = await oldStatuses("second");
  const ran = running[1]?.[1] === "In progress [e2e-worker]" ? "first" : "second";
  // Which of the two contexts the worker took first is up to the queue: one ran and was stopped, the other never ran.
  assert.deepEqual(ran === "first" ? running : queued, [
    ["pending", "Not yet tested"],
    ["pending", "In progress [e2e-worker]"],
    ["error", superseded],
  ]);
  assert.deepEqual(ran === "first" ? queued : running, [
    ["pending", "Not yet tested"],
    ["error", superseded],
  ]);

  for (const context of ["first", "second"]) {
    const statuses = await waitForStatuses(deployment, "acme/moving", pushed.sha, context, isFinal, 60_000);
    assert.equal(statuses.at(-1)?.state, "success");
  }

  const jobs = new JobDatabase(join(deployment.dir, "hangar-jobs.sqlite"));
  try {
    const old = await waitFor("both old-head jobs recorded as superseded", async () => {
      const records = (await jobs.listJobs({ repo: "acme/moving" })).filter((j) => j.sha === pull.sha);
      return records.length === 2 && records.every((j) => j.state === "superseded") ? records : undefined;
    });
    assert.ok(old.every((j) => j.attempt === 1 && j.result === "error"));
    assert.deepEqual(await jobs.listJobs({ repo: "acme/moving", state: "lost" }), []);
  } finally {
    jobs.close();
  }
});
