/**
 * The recorder's lost-job monitor on a real SQLite queue and fs store: a
 * leased job that never heartbeats is requeued as the next attempt (with its
 * old attempt retired); one that keeps heartbeating is left alone; the last
 * attempt gets its final error instead. A forged "leased" event cannot send
 * an entry into a queue of its choosing, and a requeued entry keeps its
 * signature.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { CommitStatus, Forge } from "../../src/forge/types.js";
import { JobEventPublisher } from "../../src/jobs/events.js";
import { isDone, isRetired } from "../../src/jobs/fence.js";
import { type RunningRecorder, startRecorder } from "../../src/jobs/recorder.js";
import { openQueue } from "../../src/queue/index.js";
import { type JobRef, parseTaskEntry } from "../../src/queue/messages.js";
import { checkSignature, signTaskBody } from "../../src/queue/signing.js";
import type { QueueBackend } from "../../src/queue/types.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/types.js";
import { silentLogger } from "../../src/util/logger.js";
import { waitFor } from "../e2e/harness.js";

const EVENTS = "hangar-events";

function recordingForge(posted: CommitStatus[]): Forge {
  const unused = () => Promise.reject(new Error("not used by the recorder"));
  return {
    getPull: unused,
    listOpenPulls: unused,
    getStatuses: async () => new Map(),
    postStatus: async (_repo, _sha, status) => {
      posted.push(status);
    },
    readFile: unused,
    isOrgMember: unused,
    createIssue: unused,
    comment: unused,
  };
}

describe("the lost-job monitor", () => {
  let dir: string;
  let queue: QueueBackend;
  let store: Store;
  let recorder: RunningRecorder;
  let events: JobEventPublisher;
  const posted: CommitStatus[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hangar-recorder-"));
    queue = await openQueue({
      driver: "sqlite",
      path: join(dir, "queue.sqlite"),
      layout: { webhook: "webhook", tasks: ["public", EVENTS], statistics: "statistics" },
    });
    store = await openStore({ driver: "fs", dir: join(dir, "store"), publicUrl: "http://127.0.0.1:9/" });
    events = new JobEventPublisher(queue, EVENTS, silentLogger());
    recorder = await startRecorder({
      queue,
      eventsQueue: EVENTS,
      database: join(dir, "jobs.sqlite"),
      store,
      forge: recordingForge(posted),
      logger: silentLogger(),
      heartbeatMs: 100,
      lostAfterMs: 600,
      maxAttempts: 3,
      taskQueues: ["public"],
    });
  });
  after(async () => {
    await recorder?.stop();
    await queue?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sha = "b".repeat(40);
  const ref = (slug: string, attempt: number): JobRef => ({
    slug,
    attempt,
    run: `run-${slug}-${attempt}`,
    repo: "acme/widget",
    sha,
    pull: 2,
    context: slug,
    queue: "public",
  });
  const entryOf = (job: JobRef) => ({
    job: { repo: job.repo, sha, pull: 2, context: job.context, slug: job.slug },
    human: "x",
  });
  const lease = (job: JobRef, entry: Record<string, unknown> = entryOf(job)) =>
    events.publish({
      type: "leased",
      at: new Date().toISOString(),
      worker: "w1",
      job,
      priority: 7,
      entry,
    });

  test("a silent job is requeued as attempt 2; a heartbeating one is not", async () => {
    const silent = ref("silent", 1);
    const alive = ref("alive", 1);
    await lease(silent);
    await lease(alive);
    const beat = setInterval(
      () =>
        void events.publish({
          type: "worker",
          at: new Date().toISOString(),
          worker: {
            name: "w1",
            capabilities: [],
            queues: ["public"],
            running: [{ slug: "alive", attempt: 1, run: alive.run }],
            startedAt: new Date().toISOString(),
            draining: false,
          },
        }),
      100,
    );
    try {
      const requeued = await waitFor("the silent job back in the queue", async () => {
        const info = await queue.inspect("public", 10);
        return info.entries[0];
      });
      assert.equal(requeued.priority, 7);
      const entry = parseTaskEntry(requeued.body, "public");
      assert.equal(entry.kind === "job" && entry.job.attempt, 2);
      assert.equal(entry.kind === "job" && entry.job.slug, "silent");
      assert.equal(await isRetired(store, "silent", 1), true);
      // The retry status and the "queued" record follow the requeued entry.
      await waitFor("the retry status", async () => (posted.length > 0 ? true : undefined));
      assert.deepEqual(
        posted.map((s) => [s.context, s.state, s.description]),
        [["silent", "pending", "Retrying after worker w1 lost (attempt 2 of 3)"]],
      );
      const record = await waitFor("the new attempt's record", async () => {
        const job = await recorder.history.getJob("silent");
        return job?.attempt === 2 ? job : undefined;
      });
      assert.equal(record.state, "queued");
      // Several lost-after periods later, the heartbeating job is still running.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal((await recorder.history.getJob("alive"))?.state, "leased");
      assert.equal((await queue.inspect("public", 10)).ready, 1);
    } finally {
      clearInterval(beat);
    }
  });

  test("the last attempt, lost, gets its final error and is done", async () => {
    await lease(ref("last", 3));
    const status = await waitFor("the final status", async () => posted.find((s) => s.context === "last"));
    assert.equal(status.state, "error");
    assert.equal(status.description, "Internal error: worker w1 lost (3 attempts)");
    // The done marker follows the posted status (as a worker's does), so it may come a moment later.
    await waitFor("the done marker", async () => ((await isDone(store, "last")) ? true : undefined));
    const record = await recorder.history.getJob("last");
    assert.equal(record?.state, "lost");
    assert.equal(record?.result, "error");
  });

  test("a requeued entry keeps its signature", async () => {
    const key = "recorder-test-signing-key";
    const job = { ...ref("signed", 1), queue: "public" };
    const signed = JSON.parse(String(signTaskBody(JSON.stringify(entryOf(job)), key))) as Record<
      string,
      unknown
    >;
    await lease(job, signed);
    const requeued = await waitFor("the signed job back in the queue", async () =>
      (await queue.inspect("public", 10)).entries.find((e) => e.body.includes(`"slug":"signed"`)),
    );
    assert.equal(checkSignature(requeued.body, key), "signed");
    const entry = parseTaskEntry(requeued.body, "public");
    assert.equal(entry.kind === "job" && entry.job.attempt, 2);
  });

  test("a forged leased event naming a queue that is no task queue is not republished there", async () => {
    const before = (await queue.inspect("public", 100)).ready;
    for (const target of ["webhook", "no-such-queue"]) {
      await lease({ ...ref(`forged-${target}`, 1), queue: target });
      const status = await waitFor(`the final status of the job naming ${target}`, async () =>
        posted.find((s) => s.context === `forged-${target}`),
      );
      assert.equal(status.state, "error");
      assert.equal((await recorder.history.getJob(`forged-${target}`))?.state, "lost");
    }
    assert.equal((await queue.inspect("webhook", 10)).ready, 0, "nothing went into the webhook queue");
    assert.equal((await queue.inspect("public", 100)).ready, before, "nor into a task queue");
  });
});
