/** Maintainer controls through `hangar serve` and the emulator: comment commands, triggers, cross-project runs. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { commentEnvelope, commentsOn } from "../scan/helpers.js";
import { type Deployment, isFinal, sh, startDeployment, waitFor, waitForStatuses } from "./harness.js";

const APP = "acme/app";
const LIB = "acme/lib";
const CROSS = "unit@acme/lib/stable";
const TRIGGER_CLI = fileURLToPath(new URL("../scan/fixtures/cli.js", import.meta.url));

describe("maintainer controls", () => {
  let deployment: Deployment;
  before(async () => {
    deployment = await startDeployment({
      projects: {
        [APP]: { branches: { main: ["debian/unit", CROSS], _manual: ["manual/slow"] } },
      },
      trust: { users: ["alice"] },
    });
    await deployment.emulator.createRepo({
      repo: APP,
      files: { "README.md": "app\n", ".hangar/run": sh('echo "app tests of $TEST_OS in $(pwd)"') },
    });
    await deployment.emulator.createRepo({ repo: LIB, files: { "README.md": "lib\n" } });
    await deployment.emulator.pushBranch({
      repo: LIB,
      branch: "stable",
      files: {
        ".hangar/run": sh(
          'echo "lib tests ($TEST_OS) from stable against the PR"\ntest -f feature.txt && echo "found the PR file"\necho "lib says: $(cat .hangar-command/LIB_MARK)"',
        ),
        LIB_MARK: "stable branch\n",
      },
    });
  });
  after(() => deployment?.stop());

  const token = () => readFileSync(join(deployment.dir, "github-token"), "utf8").trim();
  const log = async (url: string | null | undefined) => (await fetch(new URL("log", url ?? ""))).text();

  test("a cross-project context runs the other repository's tests against the PR; the status is on the PR", async () => {
    const pull = await deployment.emulator.openPull({
      repo: APP,
      author: "alice",
      files: { "feature.txt": "x\n" },
    });
    const statuses = await waitForStatuses(deployment, APP, pull.sha, CROSS, isFinal, 60_000);
    const final = statuses.at(-1);
    assert.equal(final?.state, "success", JSON.stringify(statuses));
    const text = await log(final?.target_url);
    assert.match(text, /lib tests \(unit\) from stable against the PR/);
    assert.match(text, /found the PR file/);
    assert.match(text, /lib says: stable branch/);
    await waitForStatuses(deployment, APP, pull.sha, "debian/unit", isFinal, 60_000);
  });

  test("an untrusted commenter gets a reply; a trusted one's /hangar test runs the context", async () => {
    const pull = await deployment.emulator.openPull({
      repo: APP,
      author: "mallory",
      files: { "m.txt": "x\n" },
    });
    await waitForStatuses(deployment, APP, pull.sha, "debian/unit", (s) => s.length > 0);
    await deployment.emulator.deliver(
      "issue_comment",
      commentEnvelope(APP, pull.number, "mallory", "/hangar test manual/slow").request,
    );
    const replies = await waitFor("a reply", async () => {
      const found = await commentsOn(deployment.emulator.url, APP, pull.number, token());
      return found.length > 0 ? found : undefined;
    });
    assert.match(replies[0] ?? "", /@mallory: only trusted users/);
    await deployment.emulator.deliver(
      "issue_comment",
      commentEnvelope(APP, pull.number, "alice", "/hangar test no/such").request,
    );
    await waitFor("a second reply", async () => {
      const found = await commentsOn(deployment.emulator.url, APP, pull.number, token());
      return found.length > 1 && /`no\/such` is not in the test map/.test(found[1] ?? "") ? found : undefined;
    });
    assert.deepEqual(
      (await deployment.emulator.statuses(APP, pull.sha)).filter((s) => s.context === "manual/slow"),
      [],
      "nothing ran",
    );

    await deployment.emulator.deliver(
      "issue_comment",
      commentEnvelope(APP, pull.number, "alice", "/hangar approve").request,
    );
    const statuses = await waitForStatuses(deployment, APP, pull.sha, "debian/unit", isFinal, 60_000);
    assert.deepEqual(
      statuses.map((s) => [s.state, s.description]),
      [
        ["pending", "Manual testing required"],
        ["pending", "Not yet tested"],
        ["pending", "In progress [e2e-worker]"],
        ["success", "Success [e2e-worker]"],
      ],
    );
  });

  test("hangar trigger sets a direct-trigger status, whose status event runs a _manual context", async () => {
    const pull = await deployment.emulator.openPull({
      repo: APP,
      author: "alice",
      files: { "t.txt": "x\n" },
    });
    const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [TRIGGER_CLI, "trigger", APP, String(pull.number), "manual/slow", "--config", deployment.configFile],
        { timeout: 60_000 },
        (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr }),
      ),
    );
    assert.equal(result.code, 0, result.stderr);
    const statuses = await waitForStatuses(deployment, APP, pull.sha, "manual/slow", isFinal, 60_000);
    assert.deepEqual(
      statuses.map((s) => [s.state, s.description]),
      [
        ["pending", "Not yet tested (direct trigger)"],
        ["pending", "In progress [e2e-worker]"],
        ["success", "Success [e2e-worker]"],
      ],
    );
  });
});
