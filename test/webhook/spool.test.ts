import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DeliverySpool } from "../../src/webhook/index.js";
import { FlakyQueue, startFlakyHarness } from "./flaky-queue.js";
import { deliver, pullRequestPayload, startHarness } from "./harness.js";

async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const spooledFiles = (spoolDir: string): string[] => readdirSync(join(spoolDir, "deliveries")).sort();
const deliveryOf = (body: Buffer): unknown =>
  (JSON.parse(body.toString("utf8")) as { delivery?: unknown }).delivery;

describe("webhook spool", () => {
  test("queue down: 202, the exact envelope on disk, drained in order once the queue is back", async () => {
    const { h, queue } = await startFlakyHarness();
    try {
      queue.mode = "down";
      const body = pullRequestPayload("opened");
      const ids = ["s-1", "s-2", "s-3", "s-4", "s-5"];
      for (const id of ids) {
        const r = await deliver(h.url, { event: "pull_request", delivery: id, body });
        assert.equal(r.status, 202);
        assert.equal(r.json.spooled, true);
      }
      const files = spooledFiles(h.spoolDir as string);
      assert.equal(files.length, ids.length);
      const first = readFileSync(join(h.spoolDir as string, "deliveries", files[0] as string));
      assert.ok(first.includes(body), "the spooled file holds the payload's exact bytes");
      assert.equal(deliveryOf(first), "s-1");
      assert.equal((await h.queued()).length, 0);
      assert.ok(h.logs().some((l) => l.outcome === "spooled" && l.delivery === "s-3"));

      queue.mode = "up";
      await waitFor("the spool to drain", async () => (await h.queued()).length === ids.length);
      assert.deepEqual((await h.queued()).map(deliveryOf), ids);
      await waitFor("spool files to go", () => spooledFiles(h.spoolDir as string).length === 0);
    } finally {
      await h.close();
    }
  });

  test("while deliveries wait in the spool, new ones go behind them", async () => {
    const { h, queue } = await startFlakyHarness();
    try {
      queue.mode = "down";
      const body = pullRequestPayload("synchronize");
      assert.equal((await deliver(h.url, { event: "pull_request", delivery: "o-1", body })).status, 202);
      queue.mode = "hang";
      // The drainer holds o-1 in a hanging publish; o-2 must not overtake it.
      assert.equal(
        (await deliver(h.url, { event: "pull_request", delivery: "o-2", body })).json.spooled,
        true,
      );
      queue.mode = "up";
      queue.release();
      await waitFor("both queued", async () => (await h.queued()).length === 2);
      assert.deepEqual((await h.queued()).map(deliveryOf), ["o-1", "o-2"]);
    } finally {
      await h.close();
    }
  });

  test("a publish that times out is spooled, and not queued twice when it lands after all", async () => {
    const { h, queue } = await startFlakyHarness({ publishTimeoutMs: 100 });
    try {
      queue.mode = "hang";
      const r = await deliver(h.url, { event: "pull_request", delivery: "t-1", body: pullRequestPayload() });
      assert.equal(r.status, 202);
      assert.equal(r.json.spooled, true);
      assert.equal(spooledFiles(h.spoolDir as string).length, 1);
      queue.mode = "up";
      queue.release();
      await waitFor("the spool file to go", () => spooledFiles(h.spoolDir as string).length === 0);
      assert.deepEqual((await h.queued()).map(deliveryOf), ["t-1"]);
      assert.equal(queue.publishes, 1, "the late publish counted; the drainer did not publish again");
    } finally {
      await h.close();
    }
  });

  test("queue down and spool unusable: the documented 503", async () => {
    const h = await startHarness({
      spool: true,
      wrapQueue: (queue) => Object.assign(new FlakyQueue(queue), { mode: "down" }),
    });
    try {
      // The temp directory vanishes under the spool (a full or lost disk behaves alike).
      rmSync(join(h.spoolDir as string, "tmp"), { recursive: true, force: true });
      const r = await deliver(h.url, { event: "pull_request", delivery: "x-2", body: pullRequestPayload() });
      assert.equal(r.status, 503);
      assert.equal(r.json.error, "cannot queue the delivery now; retry later");
    } finally {
      await h.close();
    }
  });

  test("what a stopped webhook left in the spool is drained at the next start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hangar-spool-restart-"));
    try {
      const first = await startHarness({
        dir,
        keepDir: true,
        spool: true,
        wrapQueue: (queue) => Object.assign(new FlakyQueue(queue), { mode: "down" }),
      });
      for (const id of ["r-1", "r-2"]) {
        await deliver(first.url, { event: "pull_request", delivery: id, body: pullRequestPayload() });
      }
      await first.close();
      assert.equal(spooledFiles(join(dir, "spool")).length, 2);

      const second = await startHarness({ dir, keepDir: true, spool: true });
      try {
        await waitFor("the old spool to drain", async () => (await second.queued()).length === 2);
        assert.deepEqual((await second.queued()).map(deliveryOf), ["r-1", "r-2"]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("spool names keep arrival order even within one millisecond", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hangar-spool-names-"));
    try {
      const spool = await DeliverySpool.open(dir);
      const names: string[] = [];
      for (let i = 0; i < 50; i++) names.push(await spool.write(Buffer.from(String(i))));
      assert.deepEqual([...names].sort(), names);
      const reopened = await DeliverySpool.open(dir);
      assert.equal(reopened.size, 50);
      const later = await reopened.write(Buffer.from("later"));
      assert.ok(later > (names[49] as string));
      assert.equal((await reopened.read(reopened.head as string)).toString(), "0");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
