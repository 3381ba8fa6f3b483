/**
 * State files are private whatever the umask: the queue database and its
 * side files, the spool's directories and files, the accepted-ids record and
 * the status outbox are created 0600, their directories 0700. Run under
 * umask 000, where anything left to the default would be readable by all.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { StatusOutbox } from "../../src/forge/outbox.js";
import { startFlakyHarness } from "./flaky-queue.js";
import { deliver, pullRequestPayload } from "./harness.js";

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe("state file modes", () => {
  let umask: number;
  before(() => {
    umask = process.umask(0o000);
  });
  after(() => {
    process.umask(umask);
  });

  test("queue, spool, accepted ids: files 0600, directories 0700", async () => {
    const { h, queue } = await startFlakyHarness();
    try {
      const spool = h.spoolDir as string;
      // One delivery queued (queue database and WAL written), one spooled (a spool file).
      const body = pullRequestPayload();
      assert.equal((await deliver(h.url, { event: "pull_request", delivery: "m-1", body })).status, 202);
      queue.mode = "down";
      assert.equal((await deliver(h.url, { event: "pull_request", delivery: "m-2", body })).status, 202);

      const database = h.config.queue.sqlite.path;
      const files = [
        database,
        `${database}-wal`,
        `${database}-shm`,
        `${database}-wake`,
        join(spool, "accepted.sqlite"),
        join(spool, "accepted.sqlite-wal"),
        join(spool, "accepted.sqlite-shm"),
        ...readdirSync(join(spool, "deliveries")).map((name) => join(spool, "deliveries", name)),
      ];
      assert.ok(files.length > 7, "a delivery waits in the spool");
      for (const file of files) {
        assert.ok(existsSync(file), `${file} exists`);
        assert.equal(mode(file), "600", file);
      }
      for (const dir of [spool, join(spool, "deliveries"), join(spool, "tmp")]) {
        assert.equal(mode(dir), "700", dir);
      }
    } finally {
      await h.close();
    }
  });

  test("the status outbox: 0600 with its WAL", async () => {
    const { h } = await startFlakyHarness();
    try {
      const path = join(h.dir, "outbox.sqlite");
      const outbox = new StatusOutbox(path);
      try {
        outbox.add("acme/widget", "0123456789abcdef0123456789abcdef01234567", {
          context: "unit",
          state: "pending",
          description: "Not yet tested",
        });
        for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(file), "600", file);
      } finally {
        outbox.close();
      }
    } finally {
      await h.close();
    }
  });
});
