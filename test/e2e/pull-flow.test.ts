/** The whole PR flow through `hangar serve` and the GitHub emulator. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openQueue } from "../../src/queue/index.js";
import {
  cleanRun,
  type Deployment,
  isFinal,
  sh,
  startDeployment,
  waitFor,
  waitForStatuses,
} from "./harness.js";

const layout = { webhook: "webhook", tasks: ["public", "internal"], statistics: "statistics" };

describe("pull request flow", () => {
  let deployment: Deployment;
  before(async () => {
    deployment = await startDeployment({
      projects: {
        "acme/widget": { branches: { main: ["debian/unit"] } },
        "acme/broken": { branches: { main: ["fedora/integration"] } },
        "acme/slow": { branches: { main: [{ name: "slow", timeout: 0.02 }] } },
        "acme/open": { branches: { main: ["unit"] } },
      },
      trust: { users: ["alice"] },
    });
    const run = (script: string) => ({ "README.md": "test repo\n", ".hangar/run": sh(script) });
    await deployment.emulator.createRepo({
      repo: "acme/widget",
      files: run(
        'echo "testing $TEST_OS/$TEST_SCENARIO at $TEST_REVISION for pull $TEST_PULL on $BASE_BRANCH"\necho attached > "$TEST_ATTACHMENTS/result.txt"\necho "<b>not html</b>"',
      ),
    });
    await deployment.emulator.createRepo({ repo: "acme/broken", files: run('echo "about to fail"\nexit 3') });
    await deployment.emulator.createRepo({ repo: "acme/slow", files: run("echo sleeping\nsleep 60") });
    await deployment.emulator.createRepo({ repo: "acme/open", files: run("echo should never run") });
  });
  after(() => deployment?.stop());

  test("a clean PR gets exactly three statuses, in order, and the log holds the run's output", async () => {
    const pull = await deployment.emulator.openPull({
      repo: "acme/widget",
      author: "alice",
      title: "Add a feature",
      files: { "feature.txt": "new\n" },
    });
    assert.equal(pull.delivery?.status, 202);
    const statuses = await waitForStatuses(deployment, "acme/widget", pull.sha, "debian/unit", isFinal);
    assert.deepEqual(
      statuses.map((s) => [s.state, s.description]),
      cleanRun(),
    );
    assert.equal(statuses[0]?.target_url, null);
    const target = statuses[2]?.target_url;
    assert.ok(target && target === statuses[1]?.target_url, "In progress and the result link the same log");
    const logUrl = new URL("log", target).href;
    const log = await (await fetch(logUrl)).text();
    assert.match(log, new RegExp(`testing debian/unit at ${pull.sha} for pull ${pull.number} on main`));
    const page = await (await fetch(target)).text();
    assert.match(page, /<html/i);
    const attachment = await fetch(new URL("attachments/result.txt", target));
    assert.equal(attachment.status, 200, "the attachment is next to the log");
    assert.equal(await attachment.text(), "attached\n");
  });

  test("a failing .hangar/run gets a failure status with its exit code, and the log is kept", async () => {
    const pull = await deployment.emulator.openPull({
      repo: "acme/broken",
      author: "alice",
      files: { x: "1\n" },
    });
    const statuses = await waitForStatuses(
      deployment,
      "acme/broken",
      pull.sha,
      "fedora/integration",
      isFinal,
    );
    const final = statuses.at(-1);
    assert.equal(final?.state, "failure");
    assert.equal(final?.description, "Failed (exit code 3) [e2e-worker]");
    const log = await (await fetch(new URL("log", final?.target_url ?? ""))).text();
    assert.match(log, /about to fail/);
  });

  test("a job over its timeout is killed and fails", async () => {
    const pull = await deployment.emulator.openPull({
      repo: "acme/slow",
      author: "alice",
      files: { x: "1\n" },
    });
    const statuses = await waitForStatuses(deployment, "acme/slow", pull.sha, "slow", isFinal, 20_000);
    const final = statuses.at(-1);
    assert.equal(final?.state, "failure");
    assert.match(final?.description ?? "", /^Timed out after 0.02 min/);
    const log = await (await fetch(new URL("log", final?.target_url ?? ""))).text();
    assert.match(log, /sleeping/);
  });

  test("an untrusted author gets Manual testing required and no job runs", async () => {
    const pull = await deployment.emulator.openPull({
      repo: "acme/open",
      author: "mallory",
      files: { "evil.sh": "rm -rf /\n" },
    });
    assert.equal(pull.delivery?.status, 202);
    const statuses = await waitForStatuses(deployment, "acme/open", pull.sha, "unit", (s) => s.length > 0);
    assert.deepEqual(
      statuses.map((s) => [s.state, s.description]),
      [["pending", "Manual testing required"]],
    );
    const queue = await openQueue({ driver: "sqlite", path: join(deployment.dir, "queue.sqlite"), layout });
    try {
      // Once scan has settled the delivery, nothing can still be on its way to a task queue.
      await waitFor("scan to settle the delivery", async () => {
        const info = await queue.inspect("webhook", 0);
        return info.ready + info.unacked === 0 ? true : undefined;
      });
      const tasks = await queue.inspect("public", 0);
      assert.equal(tasks.ready + tasks.unacked, 0);
    } finally {
      await queue.close();
    }
    assert.equal((await deployment.emulator.statuses("acme/open", pull.sha)).length, 1);
  });

  test("a delivery with a bad signature gets 401 and nothing is queued", async () => {
    const body = JSON.stringify({ action: "opened", number: 1 });
    const response = await fetch(deployment.webhookUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
      },
      body,
    });
    assert.equal(response.status, 401);
    const queue = await openQueue({ driver: "sqlite", path: join(deployment.dir, "queue.sqlite"), layout });
    try {
      const info = await queue.inspect("webhook", 10);
      assert.equal(
        info.entries.some((e) => e.body.includes(body)),
        false,
      );
    } finally {
      await queue.close();
    }
  });
});
