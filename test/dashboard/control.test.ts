/** The control channel: the dashboard's requests are markers in the store that a worker reads. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { storeControl } from "../../src/dashboard/control.js";
import { cancelRequested, clearDrain, drainRequested } from "../../src/jobs/control.js";
import { openStore } from "../../src/store/index.js";

test("cancel and drain requests reach a reader of the same store, and a drain can be cleared", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hangar-control-"));
  const store = await openStore({ driver: "fs", dir, publicUrl: "http://store.invalid/" });
  try {
    const control = storeControl(store);
    assert.equal(await cancelRequested(store, "pull-1-abc-unit"), false);
    await control.cancelJob("pull-1-abc-unit");
    assert.equal(await cancelRequested(store, "pull-1-abc-unit"), true);
    assert.equal(await cancelRequested(store, "pull-2-abc-unit"), false);
    await control.drainWorker("worker one");
    assert.equal(await drainRequested(store, "worker one"), true);
    assert.equal(await drainRequested(store, "worker-two"), false);
    await clearDrain(store, "worker one");
    assert.equal(await drainRequested(store, "worker one"), false);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
