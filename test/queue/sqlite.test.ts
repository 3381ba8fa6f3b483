import assert from "node:assert/strict";
import { closeSync, openSync, readSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { endianness, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import Database from "better-sqlite3";
import { type Delivery, openQueue, type QueueLayout } from "../../src/queue/index.js";
import {
  openSqliteQueue,
  type SqliteQueueBackend,
  type SqliteQueueOptions,
} from "../../src/queue/sqlite/backend.js";
import { GroupCommit } from "../../src/queue/sqlite/publish.js";
import { queueConformance } from "./conformance.js";
import { forkQueueChild, type QueueChild } from "./fixtures/spawn.js";
import { waitUntil } from "./fixtures/wait.js";

const layout: QueueLayout = { webhook: "webhook", tasks: ["public", "internal"], statistics: "statistics" };

/** A fresh directory per test, removed afterwards; `path` is the database file in it. */
function tempDatabase(): {
  readonly path: () => string;
  setup: () => Promise<void>;
  teardown: () => Promise<void>;
} {
  let dir: string | undefined;
  return {
    path: () => {
      assert.ok(dir, "no database directory outside a test");
      return join(dir, "queue.sqlite");
    },
    setup: async () => {
      dir = await mkdtemp(join(tmpdir(), "hangar-queue-"));
    },
    teardown: async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}

const conformanceDb = tempDatabase();
queueConformance("sqlite", () => openQueue({ driver: "sqlite", path: conformanceDb.path(), layout }), {
  beforeEach: conformanceDb.setup,
  afterEach: conformanceDb.teardown,
  layout: () => layout,
  // State lives only in the file: closing every backend is the restart.
  restart: async () => {},
  spawnChild: (spec) => forkQueueChild({ driver: "sqlite", path: conformanceDb.path(), layout }, spec),
});

describe("sqlite queue backend", () => {
  const db = tempDatabase();
  let backends: SqliteQueueBackend[] = [];
  let children: QueueChild[] = [];

  const open = async (options: Partial<SqliteQueueOptions> = {}): Promise<SqliteQueueBackend> => {
    const backend = await openSqliteQueue({ path: db.path(), layout, ...options });
    backends.push(backend);
    return backend;
  };

  beforeEach(db.setup);
  afterEach(async () => {
    for (const child of children) await child.kill();
    for (const backend of backends) await backend.close();
    children = [];
    backends = [];
    await db.teardown();
  });

  test("keeps the queue in a WAL-mode file on disk", async () => {
    await open();
    const raw = new Database(db.path(), { readonly: true });
    try {
      assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
      assert.equal(raw.pragma("user_version", { simple: true }), 1);
    } finally {
      raw.close();
    }
  });

  test("reopening an existing file keeps its entries and schema", async () => {
    const first = await open();
    await first.publish("public", "kept");
    await first.close();
    const second = await open();
    assert.equal((await second.inspect("public")).ready, 1);
  });

  test("reclaiming leaves the leases of live consumers alone, and takes those of dead ones", async () => {
    // No timer-driven reclaim: this test decides when it happens.
    const backend = await open({ pollIntervalMs: 3_600_000 });
    await backend.publish("public", "leased");
    const child = forkQueueChild(
      { driver: "sqlite", path: db.path(), layout },
      {
        role: "consume",
        queue: "public",
        prefetch: 1,
        settle: "hold",
      },
    );
    children.push(child);
    await child.waitFor("the delivery", (c) => c.of("delivery").length === 1);
    assert.deepEqual(backend.reclaimDeadLeases(), { owners: 0, entries: 0 });
    assert.equal((await backend.inspect("public")).unacked, 1);
    await child.kill("SIGKILL");
    assert.deepEqual(backend.reclaimDeadLeases(), { owners: 1, entries: 1 });
    const info = await backend.inspect("public");
    assert.deepEqual([info.ready, info.unacked, info.entries[0]?.redelivered], [1, 0, true]);
  });

  test("leases of an owner that stopped renewing expire; fresh ones elsewhere are kept", async () => {
    await (await open()).close();
    const raw = new Database(db.path());
    const now = Date.now();
    const addOwner = raw.prepare(
      "INSERT INTO owners (token, pid, host, pid_namespace, heartbeat) VALUES (?, 1, 'elsewhere', '', ?)",
    );
    addOwner.run("stale", now - 120_000);
    addOwner.run("fresh", now);
    const addLeased = raw.prepare(
      "INSERT INTO entries (queue, priority, body, published_at, deliveries, owner) VALUES ('public', 5, ?, ?, 1, ?)",
    );
    addLeased.run(Buffer.from("of-stale"), now, "stale");
    addLeased.run(Buffer.from("of-fresh"), now, "fresh");
    raw.close();

    const backend = await open({ leaseTtlMs: 60_000 });
    // Opening reclaims once; the stale owner's entry is back, the fresh owner keeps its own.
    const info = await backend.inspect("public");
    assert.deepEqual([info.ready, info.unacked], [1, 1]);
    assert.deepEqual(
      info.entries.map((e) => [e.body.toString(), e.redelivered]),
      [["of-stale", true]],
    );
  });

  test("a live backend renews its leases so the expiry never takes them", async () => {
    const holder = await open({ leaseTtlMs: 200, pollIntervalMs: 3_600_000 });
    await holder.publish("public", "long job");
    const held: string[] = [];
    await holder.consume("public", async (d) => {
      held.push(d.body.toString());
      await new Promise(() => {});
    });
    await waitUntil(() => held.length === 1, "the delivery");
    const watcher = await open({ leaseTtlMs: 200, pollIntervalMs: 3_600_000 });
    const startedAt = Date.now();
    // Several TTLs pass with the holder renewing: reclaiming must take nothing.
    await waitUntil(() => {
      assert.deepEqual(watcher.reclaimDeadLeases(), { owners: 0, entries: 0 });
      return Date.now() - startedAt > 1000;
    }, "a second of reclaim attempts");
    assert.equal((await watcher.inspect("public")).unacked, 1);
  });

  test("settling after close fails loudly, and the entry is back in its queue", async () => {
    const backend = await open();
    await backend.publish("public", "x");
    let delivery: Delivery | undefined;
    await backend.consume("public", async (d) => {
      delivery = d;
      await new Promise(() => {});
    });
    await waitUntil(() => delivery !== undefined, "the delivery");
    await backend.close();
    await assert.rejects(delivery?.ack() ?? Promise.resolve(), /closed/);
    await assert.rejects(backend.publish("public", "y"), /closed/);
    const reopened = await open();
    assert.equal((await reopened.inspect("public")).ready, 1);
  });

  test("publishing stays cheap while a consumer drains the queue", async (t) => {
    const backend = await open();
    let consumed = 0;
    await backend.consume(
      "public",
      (d) => {
        consumed += 1;
        return d.ack();
      },
      { prefetch: 10 },
    );
    const count = 4000;
    const startedAt = performance.now();
    // Each publish waits for its group commit, a turn of the event loop in which the consumer
    // claims and acks too: the time measured is both sides' work, interleaved.
    for (let i = 0; i < count; i++) await backend.publish("public", `{"event":"push","n":${i}}`);
    const elapsed = performance.now() - startedAt;
    t.diagnostic(
      `${count} publishes in ${elapsed.toFixed(0)} ms (${Math.round((count / elapsed) * 1000)}/s), ${consumed} consumed meanwhile`,
    );
    assert.ok(elapsed < 4000, `${count} publishes took ${elapsed} ms`);
    await waitUntil(() => consumed === count, "the consumer to drain the queue");
  });
});

describe("sqlite group commit and checkpoints", () => {
  test("publishes that arrive together are committed together; those during a commit form the next batch", async () => {
    const batches: number[] = [];
    let release: () => void = () => undefined;
    let hold = false;
    const commits = new GroupCommit(
      async (batch) => {
        batches.push(batch.length);
        if (hold) await new Promise<void>((resolve) => (release = resolve));
      },
      () => undefined,
    );
    const body = Buffer.from("x");
    await Promise.all(Array.from({ length: 16 }, () => commits.add("public", 5, body)));
    await commits.add("public", 5, body);
    assert.deepEqual(batches, [16, 1]);

    hold = true;
    const first = commits.add("public", 5, body);
    await waitUntil(() => batches.length === 3, "the held commit to start");
    hold = false;
    const during = Array.from({ length: 5 }, () => commits.add("public", 5, body));
    release();
    await Promise.all([first, ...during]);
    assert.deepEqual(batches, [16, 1, 1, 5]);
  });

  test("a publishing process keeps the WAL from growing: its checkpoints run beside it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hangar-queue-wal-"));
    const path = join(dir, "queue.sqlite");
    const backend = await openSqliteQueue({ path, layout, pollIntervalMs: 50 });
    try {
      const body = Buffer.alloc(28 * 1024, 0x61);
      for (let batch = 0; batch < 30; batch++) {
        await Promise.all(Array.from({ length: 16 }, () => backend.publish("public", body)));
      }
      const afterBurst = walFrames(path);
      assert.ok(afterBurst > 1000, `${afterBurst} frames in the WAL after 13 MiB`);
      // Once the checkpoint thread has caught up, the next commit starts the WAL over from its beginning.
      await waitUntil(async () => {
        await backend.publish("public", "small");
        return walFrames(path) < 100;
      }, "the WAL to start over");
    } finally {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Frames in the WAL now, read from the wal-index header in the -shm file
 * (mxFrame, at byte 16 in native byte order; see SQLite's WAL file format),
 * which, unlike asking SQLite, checkpoints nothing.
 */
function walFrames(database: string): number {
  const header = Buffer.alloc(48);
  const fd = openSync(`${database}-shm`, "r");
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  return endianness() === "LE" ? header.readUInt32LE(16) : header.readUInt32BE(16);
}

test("opening a database in a missing directory names the path", async () => {
  await assert.rejects(
    openQueue({ driver: "sqlite", path: "/nonexistent-hangar-dir/queue.sqlite", layout }),
    /cannot open the queue database \/nonexistent-hangar-dir\/queue\.sqlite/,
  );
});
