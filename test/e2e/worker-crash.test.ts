/** A worker killed mid-job: its entry is delivered again and the PR still ends with a correct status. */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { isProcessAlive } from "../../src/util/process.js";
import { processesWith, uniqueSleep } from "../fixtures/host-process.js";
import { type Deployment, isFinal, sh, startDeployment, waitFor, waitForStatuses } from "./harness.js";

let deployment: Deployment | undefined;
after(() => deployment?.stop());

test("a worker killed with SIGKILL mid-job: the job runs again and the PR ends in success", async () => {
  deployment = await startDeployment({
    projects: { "acme/crash": { branches: { main: [{ name: "unit", env: {} }] } } },
    trust: { users: ["alice"] },
  });
  const marker = join(deployment.exchange, "first-run.pid");
  const firstSleep = uniqueSleep(120);
  // The first run records its pid and hangs; the run after the crash sees the marker and passes.
  await deployment.emulator.createRepo({
    repo: "acme/crash",
    files: {
      ".hangar/run": sh(
        `if [ -e ${marker} ]; then echo "second run"; exit 0; fi\necho started > ${marker}\necho "first run"\nsleep ${firstSleep}`,
      ),
    },
  });
  const pull = await deployment.emulator.openPull({
    repo: "acme/crash",
    author: "alice",
    files: { x: "1\n" },
  });
  await waitFor("the first run to start", async () =>
    existsSync(marker) && readFileSync(marker, "utf8").trim() ? true : undefined,
  );
  // The job's own pid is its sandbox's; its host pid is found by the sleep's unique argument.
  const firstRun = await waitFor("the first run's process", async () => (await processesWith(firstSleep))[0]);
  await deployment.kill();

  await deployment.restart();
  const statuses = await waitForStatuses(deployment, "acme/crash", pull.sha, "unit", isFinal, 30_000);
  assert.equal(statuses.at(-1)?.state, "success");
  assert.deepEqual(
    statuses.map((s) => s.description),
    ["Not yet tested", "In progress [e2e-worker]", "In progress [e2e-worker]", "Success [e2e-worker]"],
  );
  const log = await (await fetch(new URL("log", statuses.at(-1)?.target_url ?? ""))).text();
  assert.match(log, /second run/);
  await waitFor(
    "the crashed run's processes to be reaped",
    async () => (isProcessAlive(firstRun) ? undefined : true),
    10_000,
  );
});
