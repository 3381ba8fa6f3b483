import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AcceptedDeliveries } from "../../src/webhook/index.js";
import { startFlakyHarness } from "./flaky-queue.js";
import { deliver, pullRequestPayload, startHarness } from "./harness.js";

describe("webhook: one X-GitHub-Delivery is queued once", () => {
  test("a delivery sent again is acknowledged with a reason and not queued twice, across restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hangar-dedupe-"));
    try {
      const first = await startHarness({ dir, keepDir: true, spool: true });
      const body = pullRequestPayload();
      assert.equal(
        (await deliver(first.url, { event: "pull_request", delivery: "dup-1", body })).status,
        202,
      );
      const again = await deliver(first.url, { event: "pull_request", delivery: "dup-1", body });
      assert.equal(again.status, 200);
      assert.equal(again.json.queued, false);
      assert.match(String(again.json.reason), /dup-1 was already accepted/);
      assert.equal((await first.queued()).length, 1);
      await first.close();

      const second = await startHarness({ dir, keepDir: true, spool: true });
      try {
        const later = await deliver(second.url, { event: "pull_request", delivery: "dup-1", body });
        assert.equal(later.status, 200);
        assert.equal((await second.queued()).length, 1);
        assert.equal(
          (await deliver(second.url, { event: "pull_request", delivery: "dup-2", body })).status,
          202,
        );
        assert.equal((await second.queued()).length, 2);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("concurrent copies of one delivery queue it once", async () => {
    const h = await startHarness({ spool: true });
    try {
      const body = pullRequestPayload();
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => deliver(h.url, { event: "pull_request", delivery: "same", body })),
      );
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 200, 200, 202]);
      assert.equal((await h.queued()).length, 1);
    } finally {
      await h.close();
    }
  });

  test("a spooled delivery counts as accepted; a refused one (503) does not", async () => {
    const { h, queue: flaky } = await startFlakyHarness();
    try {
      flaky.mode = "down";
      const body = pullRequestPayload();
      assert.equal((await deliver(h.url, { event: "pull_request", delivery: "sp-1", body })).status, 202);
      assert.equal((await deliver(h.url, { event: "pull_request", delivery: "sp-1", body })).status, 200);
    } finally {
      await h.close();
    }
    const plain = await startHarness();
    try {
      await plain.queue.close();
      const body = pullRequestPayload();
      assert.equal((await deliver(plain.url, { event: "pull_request", delivery: "r-1", body })).status, 503);
    } finally {
      await plain.close();
    }
  });

  test("deliveries without an id are all queued; an absurdly long id is refused", async () => {
    const h = await startHarness({ spool: true });
    try {
      const body = pullRequestPayload();
      assert.equal((await deliver(h.url, { event: "pull_request", body })).status, 202);
      assert.equal((await deliver(h.url, { event: "pull_request", body })).status, 202);
      assert.equal((await h.queued()).length, 2);
      const long = await deliver(h.url, { event: "pull_request", delivery: "x".repeat(200), body });
      assert.equal(long.status, 400);
    } finally {
      await h.close();
    }
  });

  test("the record forgets by age and by count", () => {
    const dir = mkdtempSync(join(tmpdir(), "hangar-accepted-"));
    try {
      let now = 1_000_000;
      const record = new AcceptedDeliveries(join(dir, "a.sqlite"), {
        retentionMs: 1000,
        maxEntries: 3,
        now: () => now,
      });
      record.add("old");
      now += 2000;
      for (const id of ["a", "b", "c", "d"]) record.add(id);
      assert.ok(record.has("old"));
      record.prune();
      assert.equal(record.has("old"), false, "older than the retention");
      assert.equal(record.has("a"), false, "beyond the count");
      assert.ok(record.has("b") && record.has("c") && record.has("d"));
      record.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
