/** PR comment commands, check-run re-runs and cross-project contexts, planned and applied against the emulator. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseConfig, queueLayout } from "../../src/config/index.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { createForge } from "../../src/forge/index.js";
import { openQueue } from "../../src/queue/index.js";
import type { QueueBackend } from "../../src/queue/types.js";
import { parseCommand, planDirectTrigger, TriggerError } from "../../src/scan/commands.js";
import { parseCrossProject } from "../../src/scan/crossproject.js";
import { applyPlan, planScan, readEnvelope, type ScanPlan } from "../../src/scan/index.js";
import { silentLogger } from "../../src/util/logger.js";
import { commentEnvelope, commentsOn } from "./helpers.js";

const REPO = "acme/tool";
const dir = mkdtempSync(join(tmpdir(), "hangar-commands-"));
let emulator: Emulator;
let queue: QueueBackend;

const { config } = parseConfig(
  {
    projects: {
      [REPO]: {
        branches: {
          main: ["debian/unit", { name: "fedora/secret", secrets: ["github-token"] }, "unit@acme/lib/stable"],
          _manual: ["nightly/long"],
        },
      },
    },
    trust: { users: ["alice"] },
  },
  "test",
  dir,
);

const forge = () => createForge({ api: emulator.url, post: true, logger: silentLogger() });
const deps = () => ({ config, forge: forge(), logger: silentLogger() });

async function scan(envelope: { event: string; request: Record<string, unknown> }): Promise<ScanPlan> {
  const plan = await planScan(deps(), readEnvelope(envelope));
  await applyPlan({ ...deps(), queue }, plan);
  return plan;
}

const queued = (plan: ScanPlan) => plan.actions.flatMap((a) => (a.kind === "queue" ? [a] : []));
const comments = (plan: ScanPlan) => plan.actions.flatMap((a) => (a.kind === "comment" ? [a.body] : []));

async function openPull(author: string) {
  return emulator.openPull({ repo: REPO, author, files: { [`f-${Math.random()}`]: "x\n" }, deliver: false });
}

before(async () => {
  emulator = await startEmulator({ dir: join(dir, "git") });
  await emulator.createRepo({ repo: REPO, files: { "README.md": "tool\n" } });
  queue = await openQueue({
    driver: "sqlite",
    path: join(dir, "queue.sqlite"),
    layout: queueLayout(config),
    logger: silentLogger(),
  });
});
after(async () => {
  await queue.close();
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("comment commands: parsing", () => {
  test("the first /hangar line counts; other text is no command", () => {
    assert.deepEqual(parseCommand("LGTM\n/hangar test a b\n/hangar retest"), {
      kind: "test",
      contexts: ["a", "b"],
    });
    assert.deepEqual(parseCommand("/hangar retest"), { kind: "retest" });
    assert.deepEqual(parseCommand("  /hangar approve  "), { kind: "approve" });
    assert.equal(parseCommand("please /hangar test x"), null);
    assert.equal(parseCommand("/hangarx test"), null);
    assert.deepEqual(parseCommand("/hangar test"), { kind: "unknown", text: "/hangar test" });
    assert.deepEqual(parseCommand("/hangar frobnicate"), { kind: "unknown", text: "/hangar frobnicate" });
  });

  test("cross-project context names split into context, repository and branch", () => {
    assert.deepEqual(parseCrossProject("unit@acme/lib/stable"), {
      context: "unit",
      repo: "acme/lib",
      branch: "stable",
    });
    assert.deepEqual(parseCrossProject("fedora/unit@acme/lib"), {
      context: "fedora/unit",
      repo: "acme/lib",
      branch: null,
    });
    assert.equal(parseCrossProject("debian/unit"), null);
  });
});

describe("comment commands through the emulator", () => {
  test("/hangar test from a trusted user queues the named contexts, _manual ones too", async () => {
    const pull = await openPull("alice");
    const plan = await scan(
      commentEnvelope(REPO, pull.number, "alice", "/hangar test debian/unit nightly/long"),
    );
    assert.deepEqual(
      queued(plan).map((a) => [a.context, a.task.job.sha, a.postPending]),
      [
        ["debian/unit", pull.sha, true],
        ["nightly/long", pull.sha, true],
      ],
    );
    const statuses = await emulator.statuses(REPO, pull.sha);
    assert.deepEqual(
      statuses.map((s) => [s.context, s.state, s.description]),
      [
        ["debian/unit", "pending", "Not yet tested"],
        ["nightly/long", "pending", "Not yet tested"],
      ],
    );
  });

  test("an untrusted commenter gets a reply and nothing runs", async () => {
    const pull = await openPull("alice");
    const plan = await scan(commentEnvelope(REPO, pull.number, "mallory", "/hangar test debian/unit"));
    assert.equal(queued(plan).length, 0);
    assert.match(comments(plan)[0] ?? "", /@mallory: only trusted users/);
    assert.deepEqual(await commentsOn(emulator.url, REPO, pull.number), comments(plan));
    assert.deepEqual(await emulator.statuses(REPO, pull.sha), []);
  });

  test("an unknown context gets a reply naming it, and nothing runs", async () => {
    const pull = await openPull("alice");
    const plan = await scan(commentEnvelope(REPO, pull.number, "alice", "/hangar test debian/unit no/such"));
    assert.equal(queued(plan).length, 0);
    assert.match(comments(plan)[0] ?? "", /`no\/such` is not in the test map of acme\/tool/);
    assert.equal((await commentsOn(emulator.url, REPO, pull.number)).length, 1);
  });

  test("an unknown command gets a reply listing the commands", async () => {
    const pull = await openPull("alice");
    const plan = await scan(commentEnvelope(REPO, pull.number, "alice", "/hangar frobnicate"));
    assert.match(comments(plan)[0] ?? "", /unknown command `\/hangar frobnicate`.*\/hangar retest/);
  });

  test("/hangar retest queues the failed and errored contexts only", async () => {
    const pull = await openPull("alice");
    const post = (context: string, state: "success" | "failure" | "error") =>
      forge().postStatus(REPO, pull.sha, { context, state, description: state });
    await post("debian/unit", "failure");
    await post("fedora/secret", "error");
    await post("nightly/long", "success");
    const plan = await scan(commentEnvelope(REPO, pull.number, "alice", "/hangar retest"));
    assert.deepEqual(
      queued(plan)
        .map((a) => a.context)
        .sort(),
      ["debian/unit", "fedora/secret"],
    );
    const nothing = await scan(
      commentEnvelope(REPO, (await openPull("alice")).number, "alice", "/hangar retest"),
    );
    assert.match(comments(nothing)[0] ?? "", /no failed contexts/);
  });

  test("/hangar approve runs an untrusted author's PR at its head, without secrets", async () => {
    const pull = await openPull("mallory");
    const opened = await scan({
      event: "pull_request",
      request: {
        action: "opened",
        pull_request: {
          number: pull.number,
          title: "x",
          user: { login: "mallory" },
          labels: [],
          head: { sha: pull.sha, ref: "x" },
          base: { ref: "main" },
        },
        repository: { full_name: REPO },
      },
    });
    assert.ok(
      opened.actions.every((a) => a.kind === "status"),
      "untrusted: statuses only",
    );
    const plan = await scan(commentEnvelope(REPO, pull.number, "alice", "/hangar approve"));
    const jobs = queued(plan).map((a) => a.task.job);
    assert.deepEqual(jobs.map((job) => job.context).sort(), [
      "debian/unit",
      "fedora/secret",
      "unit@acme/lib/stable",
    ]);
    for (const job of jobs) {
      assert.equal(job.sha, pull.sha);
      assert.equal(job.trusted, false);
      assert.deepEqual(job.secrets, []);
    }
    // A later push is not approved: the new head waits for manual testing again.
    const pushed = await emulator.pushToPull({
      repo: REPO,
      number: pull.number,
      files: { more: "1\n" },
      deliver: false,
    });
    const again = await planScan(deps(), {
      kind: "pull",
      subject: { repo: REPO, sha: pushed.sha, pull: pull.number, baseBranch: "main", title: "x" },
      author: "mallory",
      headOwner: "acme",
      labels: [],
    });
    assert.ok(again.actions.every((a) => a.kind === "status" && a.description === "Manual testing required"));
  });

  test("a cross-project context names the other repository and branch as command subject", async () => {
    const pull = await openPull("alice");
    const plan = await scan(commentEnvelope(REPO, pull.number, "alice", "/hangar test unit@acme/lib/stable"));
    const job = queued(plan)[0]?.task.job;
    assert.equal(job?.repo, REPO);
    assert.equal(job?.sha, pull.sha);
    assert.equal(job?.context, "unit@acme/lib/stable");
    assert.deepEqual(job?.command_subject, { repo: "acme/lib", branch: "stable" });
    const statuses = await emulator.statuses(REPO, pull.sha);
    assert.equal(statuses[0]?.context, "unit@acme/lib/stable", "the status goes on this PR");
  });

  test("a check run's Re-run queues its context again, unknown ones are ignored", async () => {
    const pull = await openPull("alice");
    const rerun = (name: string) => ({
      event: "check_run",
      request: {
        action: "rerequested",
        check_run: { name, external_id: name, head_sha: pull.sha },
        repository: { full_name: REPO },
      },
    });
    const plan = await scan(rerun("debian/unit"));
    assert.deepEqual(
      queued(plan).map((a) => [a.context, a.task.job.sha, a.task.job.pull]),
      [["debian/unit", pull.sha, pull.number]],
    );
    const unknown = await scan(rerun("gone/away"));
    assert.match(unknown.ignored ?? "", /gone\/away is not in the test map/);
  });
});

describe("direct triggers (hangar trigger)", () => {
  test("known contexts, _manual included, and --all-failed are planned on the head", async () => {
    const pull = await openPull("alice");
    await forge().postStatus(REPO, pull.sha, {
      context: "fedora/secret",
      state: "failure",
      description: "x",
    });
    const planned = await planDirectTrigger(deps(), {
      repo: REPO,
      pull: pull.number,
      contexts: ["nightly/long"],
      allFailed: true,
    });
    assert.equal(planned.sha, pull.sha);
    assert.deepEqual([...planned.contexts].sort(), ["fedora/secret", "nightly/long"]);
  });

  test("a context not in the test map is refused by name", async () => {
    const pull = await openPull("alice");
    await assert.rejects(
      planDirectTrigger(deps(), {
        repo: REPO,
        pull: pull.number,
        contexts: ["debian/unit", "bogus"],
        allFailed: false,
      }),
      (error: unknown) =>
        error instanceof TriggerError && /bogus/.test(error.message) && !/debian/.test(error.message),
    );
    await assert.rejects(
      planDirectTrigger(deps(), { repo: "acme/other", pull: 1, contexts: ["x"], allFailed: false }),
      TriggerError,
    );
  });
});
