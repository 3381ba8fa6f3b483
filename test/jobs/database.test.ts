/** The job database applies events idempotently, whatever their order, and answers the history queries. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, describe, test } from "node:test";
import { JobDatabase } from "../../src/jobs/database.js";
import type { JobEvent, JobRef } from "../../src/queue/messages.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-jobs-db-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const sha = "a".repeat(40);
const ref = (attempt: number, run: string, slug = "pull-1-aaaaaaaa-unit"): JobRef => ({
  slug,
  attempt,
  run,
  repo: "acme/widget",
  sha,
  pull: 1,
  context: "unit",
  queue: "public",
});
const at = (second: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, second)).toISOString();

const leased = (job: JobRef, second: number, worker = "w1"): JobEvent => ({
  type: "leased",
  at: at(second),
  worker,
  job,
  priority: 5,
  entry: { job: { repo: job.repo, sha, context: job.context } },
});
const started = (job: JobRef, second: number, worker = "w1"): JobEvent => ({
  type: "started",
  at: at(second),
  worker,
  job,
  logUrl: `http://store/${job.slug}/log.html`,
});
const finished = (job: JobRef, second: number, result: "success" | "failure" = "success"): JobEvent => ({
  type: "finished",
  at: at(second),
  worker: "w1",
  job,
  state: "done",
  result,
  description: result === "success" ? "Success [w1]" : "Failed (exit code 1) [w1]",
  logUrl: `http://store/${job.slug}/log.html`,
});

let db: JobDatabase;
let count = 0;
beforeEach(() => {
  db?.close();
  db = new JobDatabase(join(dir, `jobs-${count++}.sqlite`));
});

describe("applying events", () => {
  test("a run goes queued → leased → running → done; each event applied twice changes nothing", async () => {
    const run = ref(1, "r1");
    const events: JobEvent[] = [{ type: "queued", at: at(0), job: { ...run, run: "queued" } }];
    events.push(leased(run, 1), started(run, 2), finished(run, 3));
    for (const event of events) {
      db.apply(event, 1000);
      db.apply(event, 1000);
    }
    const job = await db.getJob(run.slug);
    assert.equal(job?.state, "done");
    assert.equal(job?.result, "success");
    assert.equal(job?.attempt, 1);
    assert.equal(job?.worker, "w1");
    assert.equal(job?.startedAt, at(2));
    assert.equal(job?.endedAt, at(3));
    assert.equal(job?.logUrl, `http://store/${run.slug}/log.html`);
  });

  test("out of order: a late lease neither moves a finished run back nor loses the entry", async () => {
    const run = ref(1, "r1");
    db.apply(started(run, 2), 1000);
    db.apply(finished(run, 3), 1000);
    db.apply(leased(run, 1), 1000);
    assert.equal((await db.getJob(run.slug))?.state, "done");
  });

  test("an older attempt never overwrites a newer one", async () => {
    db.apply(leased(ref(2, "r2"), 10), 1000);
    db.apply(finished(ref(1, "r1"), 20, "failure"), 1000);
    const job = await db.getJob(ref(1, "r1").slug);
    assert.equal(job?.attempt, 2);
    assert.equal(job?.state, "leased");
  });

  test("a redelivery of the same attempt takes over; late events of the replaced run are ignored", async () => {
    db.apply(leased(ref(1, "r1"), 1, "w1"), 1000);
    db.apply(started(ref(1, "r1"), 2, "w1"), 1000);
    db.apply(leased(ref(1, "r2"), 5, "w2"), 2000);
    db.apply(started(ref(1, "r1"), 3, "w1"), 2000);
    const job = await db.getJob(ref(1, "r1").slug);
    assert.equal(job?.state, "leased");
    assert.equal(job?.worker, "w2");
  });
});

describe("silence and loss", () => {
  test("worker heartbeats keep their runs alive; a silent run is found and marked lost once", () => {
    const quiet = ref(1, "r1", "quiet");
    const busy = ref(1, "r2", "busy");
    db.apply(leased(quiet, 1), 1000);
    db.apply(leased(busy, 1), 1000);
    db.apply(
      {
        type: "worker",
        at: at(5),
        worker: {
          name: "w1",
          capabilities: [],
          queues: ["public"],
          running: [{ slug: "busy", attempt: 1, run: "r2" }],
          startedAt: at(0),
          draining: false,
        },
      },
      9000,
    );
    const silent = db.silentSince(5000);
    assert.deepEqual(
      silent.map((s) => s.job.slug),
      ["quiet"],
    );
    assert.deepEqual(silent[0]?.entry, { job: { repo: "acme/widget", sha, context: "unit" } });
    assert.equal(db.markLost(quiet, "worker w1 lost", false), true);
    assert.equal(db.markLost(quiet, "worker w1 lost", false), false);
    assert.deepEqual(db.silentSince(5000), []);
  });

  test("workers are listed with their running jobs", async () => {
    db.apply(
      {
        type: "worker",
        at: at(5),
        worker: {
          name: "w9",
          capabilities: ["kvm"],
          queues: ["public", "public-kvm"],
          running: [{ slug: "s1", attempt: 1, run: "r" }],
          startedAt: at(0),
          draining: true,
        },
      },
      9000,
    );
    const [worker] = await db.listWorkers();
    assert.deepEqual(worker?.runningJobs, ["s1"]);
    assert.deepEqual(worker?.capabilities, ["kvm"]);
    assert.equal(worker?.draining, true);
  });
});

describe("history", () => {
  test("filters, and failure rates put the flakiest context first", async () => {
    const record = (slug: string, context: string, result: "success" | "failure") => {
      const job = { ...ref(1, "r", slug), context };
      db.apply(leased(job, 1), 1000);
      db.apply(finished(job, 2, result), 1000);
    };
    record("a1", "unit", "success");
    record("a2", "unit", "failure");
    record("b1", "browser", "failure");
    record("b2", "browser", "failure");
    record("c1", "lint", "success");
    assert.deepEqual((await db.listJobs({ context: "browser" })).map((j) => j.id).sort(), ["b1", "b2"]);
    assert.equal((await db.listJobs({ result: "failure" })).length, 3);
    assert.equal((await db.listJobs({ limit: 2 })).length, 2);
    const rates = await db.failureRates();
    assert.deepEqual(
      rates.map((r) => [r.context, r.runs, r.failures]),
      [
        ["browser", 2, 2],
        ["unit", 2, 1],
        ["lint", 1, 0],
      ],
    );
  });
});
