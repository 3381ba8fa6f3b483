import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseConfig, queueLayout } from "../../src/config/index.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { createForge } from "../../src/forge/index.js";
import { openQueue } from "../../src/queue/index.js";
import { parseTaskEntry } from "../../src/queue/messages.js";
import type { QueueBackend } from "../../src/queue/types.js";
import { applyPlan, planScan, readEnvelope, type ScanPlan, startScanner } from "../../src/scan/index.js";
import { silentLogger } from "../../src/util/logger.js";
import { waitFor } from "../e2e/harness.js";

const REPO = "acme/app";
const dir = mkdtempSync(join(tmpdir(), "hangar-scan-"));
let emulator: Emulator;

const { config } = parseConfig(
  {
    queue: { names: { internal: "rhel" } },
    projects: {
      [REPO]: {
        branches: {
          main: [
            "debian/unit",
            { name: "rhel/secure", internal: true, priority: 8, secrets: ["github-token"], timeout: 30 },
          ],
          stable: [],
          _manual: ["nightly/long"],
        },
      },
    },
    trust: { users: ["Alice"], orgs: ["acme-devs"] },
  },
  "test",
  dir,
);

function deps() {
  return {
    config,
    forge: createForge({ api: emulator.url, post: true, logger: silentLogger() }),
    logger: silentLogger(),
  };
}

async function openPull(author: string, extra: { title?: string; labels?: string[]; base?: string } = {}) {
  return emulator.openPull({
    repo: REPO,
    author,
    files: { [`f-${Math.random()}`]: "x\n" },
    deliver: false,
    ...extra,
  });
}

function pullEnvelope(
  pull: { number: number; sha: string },
  author: string,
  overrides: { title?: string; labels?: string[]; base?: string; action?: string; headOwner?: string } = {},
) {
  return {
    event: "pull_request",
    request: {
      action: overrides.action ?? "opened",
      number: pull.number,
      pull_request: {
        number: pull.number,
        title: overrides.title ?? "A change",
        user: { login: author },
        labels: (overrides.labels ?? []).map((name) => ({ name })),
        head: { sha: pull.sha, ref: "topic", repo: { owner: { login: overrides.headOwner ?? "acme" } } },
        base: { ref: overrides.base ?? "main" },
      },
      repository: { full_name: REPO },
    },
  };
}

const plan = async (envelope: { event: string; request: Record<string, unknown> }): Promise<ScanPlan> =>
  planScan(deps(), readEnvelope(envelope));

before(async () => {
  emulator = await startEmulator({ dir: join(dir, "git") });
  await emulator.createRepo({ repo: REPO, files: { "README.md": "app\n" } });
  await emulator.pushBranch({ repo: REPO, branch: "stable", files: { STABLE: "1\n" } });
  await emulator.setOrgMembers("acme-devs", ["bob"]);
});
after(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("scan: pull requests", () => {
  test("a trusted author's PR queues one bots-format job per context, on the right queue and priority", async () => {
    const pull = await openPull("alice");
    const result = await plan(pullEnvelope(pull, "alice"));
    assert.equal(result.ignored, undefined);
    const queued = result.actions.flatMap((a) => (a.kind === "queue" ? [a] : []));
    assert.deepEqual(
      queued.map((a) => [a.context, a.queue, a.priority, a.postPending]),
      [
        ["debian/unit", "public", 5, true],
        ["rhel/secure", "rhel", 8, true],
      ],
    );
    const job = queued[1]?.task.job;
    assert.equal(job?.repo, REPO);
    assert.equal(job?.sha, pull.sha);
    assert.equal(job?.pull, pull.number);
    assert.equal(job?.context, "rhel/secure");
    assert.equal(job?.timeout, 30);
    assert.deepEqual(job?.secrets, ["github-token"]);
    assert.equal(job?.env?.BASE_BRANCH, "main");
    assert.match(
      job?.slug ?? "",
      new RegExp(`^pull-${pull.number}-${pull.sha.slice(0, 8)}-\\d{8}-\\d{6}-rhel-secure$`),
    );
    assert.match(queued[0]?.task.human ?? "", /debian\/unit for acme\/app pull #\d+/);
    // What goes on the wire parses back as a task entry.
    const entry = parseTaskEntry(Buffer.from(JSON.stringify(queued[0]?.task)), "public");
    assert.equal(entry.kind, "job");
  });

  test("an untrusted author gets Manual testing required and no job", async () => {
    const pull = await openPull("mallory");
    const result = await plan(pullEnvelope(pull, "mallory"));
    assert.deepEqual(
      result.actions.map((a) => [
        a.kind,
        a.kind === "comment" ? "" : a.context,
        a.kind === "status" ? a.description : "",
      ]),
      [
        ["status", "debian/unit", "Manual testing required"],
        ["status", "rhel/secure", "Manual testing required"],
      ],
    );
  });

  test("members of a trusted org are trusted; user names match without regard to case", async () => {
    const byBob = await openPull("bob");
    assert.ok((await plan(pullEnvelope(byBob, "bob"))).actions.every((a) => a.kind === "queue"));
    const byAlice = await openPull("ALICE");
    assert.ok((await plan(pullEnvelope(byAlice, "ALICE"))).actions.every((a) => a.kind === "queue"));
  });

  test("[no-test] in the title or a no-test label skips the PR", async () => {
    const pull = await openPull("alice");
    assert.match(
      (await plan(pullEnvelope(pull, "alice", { title: "WIP [no-test]" }))).ignored ?? "",
      /no-test/,
    );
    assert.match((await plan(pullEnvelope(pull, "alice", { labels: ["no-test"] }))).ignored ?? "", /no-test/);
  });

  test("contexts already passed, failed or in progress are skipped", async () => {
    const pull = await openPull("alice");
    const forge = deps().forge;
    await forge.postStatus(REPO, pull.sha, {
      context: "debian/unit",
      state: "failure",
      description: "Failed",
    });
    await forge.postStatus(REPO, pull.sha, {
      context: "rhel/secure",
      state: "pending",
      description: "In progress [w1]",
    });
    const result = await plan(pullEnvelope(pull, "alice"));
    assert.deepEqual(result.actions, []);
    assert.deepEqual(
      result.skipped.map((s) => [s.context, s.reason]),
      [
        ["debian/unit", "already failure"],
        ["rhel/secure", "in progress"],
      ],
    );
  });

  test("unknown repositories, branches without contexts and untested actions are ignored", async () => {
    const pull = await openPull("alice");
    const other = pullEnvelope(pull, "alice");
    other.request.repository = { full_name: "acme/other" };
    assert.match((await plan(other)).ignored ?? "", /acme\/other is not in the test map/);
    assert.match(
      (await plan(pullEnvelope(pull, "alice", { base: "stable" }))).ignored ?? "",
      /no contexts for branch stable/,
    );
    assert.match(
      (await plan(pullEnvelope(pull, "alice", { action: "closed" }))).ignored ?? "",
      /action closed/,
    );
    assert.match((await plan({ event: "push", request: {} })).ignored ?? "", /event push/);
  });

  test("a payload missing a required field is refused naming the field", async () => {
    const broken = pullEnvelope({ number: 1, sha: "a".repeat(40) }, "alice");
    delete (broken.request.pull_request as Record<string, unknown>).head;
    await assert.rejects(plan(broken), /request\.pull_request\.head: expected an object/);
  });
});

describe("scan: direct triggers", () => {
  const trigger = (sha: string, context: string, description = "Not yet tested (direct trigger)") => ({
    event: "status",
    request: { sha, context, state: "pending", description, repository: { full_name: REPO } },
  });

  test("a direct trigger queues its context for the PR with that head, without posting again", async () => {
    const pull = await openPull("alice");
    const result = await plan(trigger(pull.sha, "nightly/long"));
    assert.equal(result.actions.length, 1);
    const action = result.actions[0];
    assert.ok(action?.kind === "queue");
    assert.equal(action.postPending, false);
    assert.equal(action.task.job.pull, pull.number);
    assert.equal(action.task.job.context, "nightly/long");
  });

  test("unknown contexts and statuses that are not direct triggers are ignored", async () => {
    const pull = await openPull("alice");
    assert.match(
      (await plan(trigger(pull.sha, "nope"))).ignored ?? "",
      /context nope is not in the test map/,
    );
    assert.match(
      (await plan(trigger(pull.sha, "debian/unit", "Not yet tested"))).ignored ?? "",
      /not a pending direct trigger/,
    );
  });
});

describe("scanner", () => {
  let queue: QueueBackend;
  before(async () => {
    queue = await openQueue({
      driver: "sqlite",
      path: join(dir, "queue.sqlite"),
      layout: queueLayout(config),
      logger: silentLogger(),
    });
  });
  after(() => queue.close());

  test("consumes webhook entries: statuses posted, jobs published, entry acked; bad entries dropped", async () => {
    const scanner = await startScanner({ ...deps(), queue });
    try {
      const pull = await openPull("alice");
      await queue.publish("webhook", "this is not json");
      await queue.publish("webhook", JSON.stringify(pullEnvelope(pull, "alice")));
      await waitFor("both entries settled", async () => {
        const info = await queue.inspect("webhook", 0);
        return info.ready + info.unacked === 0 ? true : undefined;
      });
      assert.equal((await queue.inspect("public", 0)).ready, 1);
      assert.equal((await queue.inspect("rhel", 0)).ready, 1);
      const statuses = await emulator.statuses(REPO, pull.sha);
      assert.deepEqual(statuses.map((s) => [s.context, s.description]).sort(), [
        ["debian/unit", "Not yet tested"],
        ["rhel/secure", "Not yet tested"],
      ]);
    } finally {
      await scanner.cancel();
    }
  });

  test("applyPlan posts Manual testing required without publishing", async () => {
    const pull = await openPull("eve");
    await applyPlan({ ...deps(), queue }, await plan(pullEnvelope(pull, "eve")));
    const statuses = await emulator.statuses(REPO, pull.sha);
    assert.equal(statuses.length, 2);
    assert.ok(statuses.every((s) => s.description === "Manual testing required"));
  });
});
