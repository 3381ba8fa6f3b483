/**
 * Events lost while hangar was down: after a restart, reconciliation tests the PR opened in the
 * meantime, and has GitHub (the emulator) redeliver the failed direct-trigger delivery.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { after, test } from "node:test";
import { parse, stringify } from "yaml";
import { HOOK_ID } from "../../src/emulator/index.js";
import { type Deployment, isFinal, sh, startDeployment, waitForStatuses } from "./harness.js";

const REPO = "acme/lost";
let deployment: Deployment | undefined;
after(() => deployment?.stop());

test("a PR opened and a trigger sent while hangar was down are tested after it comes back", async () => {
  deployment = await startDeployment({
    projects: { [REPO]: { branches: { main: ["unit"], _manual: ["manual"] } } },
    trust: { users: ["alice"] },
  });
  const config = parse(readFileSync(deployment.configFile, "utf8")) as Record<string, unknown>;
  config.reconcile = { hooks: [{ repo: REPO, id: HOOK_ID }], startDelaySeconds: 0, intervalMinutes: 0 };
  writeFileSync(deployment.configFile, stringify(config));
  await deployment.emulator.createRepo({
    repo: REPO,
    files: { ".hangar/run": sh('echo "tested $TEST_OS"') },
  });

  await deployment.kill();
  const pull = await deployment.emulator.openPull({ repo: REPO, author: "alice", files: { x: "1\n" } });
  assert.equal(pull.delivery?.status, null, "the webhook was down");
  const trigger = await deployment.emulator.deliver("status", {
    state: "pending",
    description: "Not yet tested (direct trigger)",
    context: "manual",
    sha: pull.sha,
    repository: { full_name: REPO },
  });
  assert.equal(trigger.status, null);

  await deployment.restart();
  const unit = await waitForStatuses(deployment, REPO, pull.sha, "unit", isFinal, 60_000);
  assert.equal(unit.at(-1)?.state, "success");
  assert.deepEqual(
    unit.map((s) => s.description),
    ["Not yet tested", "In progress [e2e-worker]", "Success [e2e-worker]"],
  );
  const manual = await waitForStatuses(deployment, REPO, pull.sha, "manual", isFinal, 60_000);
  assert.equal(manual.at(-1)?.state, "success");
  const redelivered = (await deployment.emulator.deliveries()).filter(
    (d) => d.id === trigger.id && d.redelivery,
  );
  assert.equal(redelivered.length, 1);
  assert.equal(redelivered[0]?.status, 202);
  assert.ok(
    deployment.logs.some((l) => l.msg === "reconcile: asked GitHub to redeliver a failed delivery"),
    "the redelivery is logged",
  );
});
