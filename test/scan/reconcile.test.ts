import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { parseConfig, queueLayout } from "../../src/config/index.js";
import { type Emulator, HOOK_ID, startEmulator } from "../../src/emulator/index.js";
import { type ConfiguredForge, createForge, failedDeliveries } from "../../src/forge/index.js";
import { openQueue } from "../../src/queue/index.js";
import { parseTaskEntry } from "../../src/queue/messages.js";
import type { QueueBackend } from "../../src/queue/types.js";
import { reconcile, startReconciler } from "../../src/scan/reconcile.js";
import { silentLogger } from "../../src/util/logger.js";
import { startReceiver } from "../emulator/helpers.js";

const REPO = "acme/recon";
const dir = mkdtempSync(join(tmpdir(), "hangar-reconcile-"));

const { config } = parseConfig(
  {
    projects: { [REPO]: { branches: { main: ["unit", "integration"] } } },
    trust: { users: ["alice"] },
    reconcile: { hooks: [{ repo: REPO, id: HOOK_ID }], intervalMinutes: 0, startDelaySeconds: 0 },
  },
  "test",
  dir,
);

describe("reconciliation", () => {
  let emulator: Emulator;
  let queue: QueueBackend;
  let forge: ConfiguredForge;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    receiver = await startReceiver(502);
    emulator = await startEmulator({ dir: join(dir, "git"), webhook: { url: receiver.url, secret: "s" } });
    await emulator.createRepo({ repo: REPO, files: { "a.txt": "a" } });
    queue = await openQueue({
      driver: "sqlite",
      path: join(dir, "queue.sqlite"),
      layout: queueLayout(config),
    });
    forge = createForge({ api: emulator.url, post: true, logger: silentLogger() });
  });
  after(async () => {
    await forge.close();
    await queue.close();
    await emulator.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await queue.purge("public");
  });

  const deps = () => ({ config, queue, forge, hooks: forge, logger: silentLogger() });
  const queuedContexts = async () =>
    (await queue.inspect("public", 100)).entries.map((entry) => {
      const task = parseTaskEntry(entry.body, "public");
      return task.kind === "job" ? `${task.job.context}@${task.job.sha.slice(0, 7)}` : task.command;
    });

  test("an open PR nobody scanned gets its contexts queued, once", async () => {
    const pull = await emulator.openPull({
      repo: REPO,
      author: "alice",
      files: { "b.txt": "b" },
      deliver: false,
    });
    const report = await reconcile(deps());
    assert.equal(report.queued, 2);
    assert.deepEqual((await queuedContexts()).sort(), [
      `integration@${pull.sha.slice(0, 7)}`,
      `unit@${pull.sha.slice(0, 7)}`,
    ]);
    const statuses = await emulator.statuses(REPO, pull.sha);
    assert.deepEqual(statuses.map((s) => [s.context, s.description]).sort(), [
      ["integration", "Not yet tested"],
      ["unit", "Not yet tested"],
    ]);
    const again = await reconcile(deps());
    assert.equal(again.queued, 0, "contexts with a status are left alone");
    assert.equal((await queuedContexts()).length, 2);
    await emulator.closePull({ repo: REPO, number: pull.number, deliver: false });
  });

  test("only contexts without any status are queued; untrusted authors get Manual testing required", async () => {
    const pull = await emulator.openPull({
      repo: REPO,
      author: "alice",
      files: { "c.txt": "c" },
      deliver: false,
    });
    await forge.postStatus(REPO, pull.sha, { context: "unit", state: "success", description: "Success [w]" });
    const stranger = await emulator.openPull({
      repo: REPO,
      author: "mallory",
      files: { "d.txt": "d" },
      deliver: false,
    });
    const report = await reconcile(deps());
    assert.deepEqual(await queuedContexts(), [`integration@${pull.sha.slice(0, 7)}`]);
    assert.equal(report.statuses, 2);
    const manual = (await emulator.statuses(REPO, stranger.sha)).map((s) => s.description);
    assert.deepEqual(manual, ["Manual testing required", "Manual testing required"]);
    await emulator.closePull({ repo: REPO, number: pull.number, deliver: false });
    await emulator.closePull({ repo: REPO, number: stranger.number, deliver: false });
  });

  test("failed deliveries are redelivered, except pull_request events the PR scan covers", async () => {
    await emulator.setWebhook({ url: receiver.url, secret: "s" });
    const pull = await emulator.openPull({ repo: REPO, author: "alice", files: { "e.txt": "e" } });
    assert.equal(pull.delivery?.status, 502);
    const trigger = await emulator.deliver("status", {
      state: "pending",
      description: "Not yet tested (direct trigger)",
      context: "unit",
      sha: pull.sha,
      repository: { full_name: REPO },
    });
    assert.equal(trigger.status, 502);
    const before = receiver.received.length;
    const report = await reconcile(deps());
    await emulator.idle();
    // Also the status events of the statuses posted so far: they failed against this receiver too.
    assert.ok(report.redelivered >= 1);
    const resent = receiver.received
      .slice(before)
      .filter((r) => r.headers["x-github-delivery"] === trigger.id);
    assert.equal(resent.length, 1, "the status event was sent again under its GUID");
    const attempts = await forge.listHookDeliveries(
      { repo: REPO, id: HOOK_ID },
      new Date(Date.now() - 3600_000),
    );
    assert.ok(attempts.some((a) => a.guid === trigger.id && a.redelivery));
    assert.ok(
      !attempts.some((a) => a.guid === pull.delivery?.id && a.redelivery),
      "the PR event is not replayed",
    );
    await emulator.closePull({ repo: REPO, number: pull.number, deliver: false });
  });

  test("a delivery that later succeeded is not failed; failing ones are, newest attempt first", () => {
    const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();
    const failed = failedDeliveries([
      {
        id: 3,
        guid: "a",
        deliveredAt: at(3),
        redelivery: true,
        statusCode: 202,
        event: "status",
        action: null,
      },
      {
        id: 1,
        guid: "a",
        deliveredAt: at(1),
        redelivery: false,
        statusCode: 500,
        event: "status",
        action: null,
      },
      {
        id: 2,
        guid: "b",
        deliveredAt: at(2),
        redelivery: false,
        statusCode: 0,
        event: "status",
        action: null,
      },
      {
        id: 4,
        guid: "b",
        deliveredAt: at(4),
        redelivery: true,
        statusCode: 503,
        event: "status",
        action: null,
      },
    ]);
    assert.deepEqual(
      failed.map((d) => d.id),
      [4],
    );
  });

  test("a forge that fails is counted and logged, not thrown; the reconciler runs at start", async () => {
    const broken = createForge({
      api: "http://127.0.0.1:9",
      post: true,
      logger: silentLogger(),
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    try {
      const reconciler = startReconciler({
        config,
        queue,
        forge: broken,
        hooks: broken,
        logger: silentLogger(),
      });
      const report = await reconciler.runNow();
      assert.equal(report.errors, 2, "the hook and the repository");
      await reconciler.stop();
    } finally {
      await broken.close();
    }
  });
});
