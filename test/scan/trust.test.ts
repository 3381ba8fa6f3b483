/**
 * Trust that fails closed, through the emulator: which commit a direct trigger or re-run may
 * run trusted, forge failures that make scan try again, forks, and approvals that cover only
 * the head they were written about.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseConfig, queueLayout } from "../../src/config/index.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { createForge } from "../../src/forge/index.js";
import { openQueue } from "../../src/queue/index.js";
import { type Job, parseTaskEntry } from "../../src/queue/messages.js";
import type { QueueBackend } from "../../src/queue/types.js";
import { pullOfTriggerUrl, pullRequestScan } from "../../src/scan/events.js";
import { applyPlan, planScan, readEnvelope, type ScanPlan, startScanner } from "../../src/scan/index.js";
import { TrustUndecidedError } from "../../src/scan/trust.js";
import { silentLogger } from "../../src/util/logger.js";
import { waitFor } from "../e2e/harness.js";
import { commentEnvelope, githubTime } from "./helpers.js";

const REPO = "acme/vault";
const dir = mkdtempSync(join(tmpdir(), "hangar-trust-"));
let emulator: Emulator;
let queue: QueueBackend;

const { config } = parseConfig(
  {
    projects: {
      [REPO]: {
        branches: {
          main: [{ name: "fedora/secret", secrets: ["github-token"] }],
          _manual: [{ name: "nightly/long", secrets: ["github-token"] }],
        },
      },
    },
    trust: { users: ["alice"], orgs: ["acme-devs"] },
  },
  "test",
  dir,
);

/** One try per request, so an injected fault is a failed decision at once. */
const forge = () =>
  createForge({
    api: emulator.url,
    post: true,
    logger: silentLogger(),
    retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });
const deps = () => ({ config, forge: forge(), logger: silentLogger() });
const plan = (envelope: { event: string; request: Record<string, unknown> }): Promise<ScanPlan> =>
  planScan(deps(), readEnvelope(envelope));
const scan = async (envelope: { event: string; request: Record<string, unknown> }): Promise<ScanPlan> => {
  const planned = await plan(envelope);
  await applyPlan({ ...deps(), queue }, planned);
  return planned;
};
const jobs = (planned: ScanPlan): Job[] =>
  planned.actions.flatMap((action) => (action.kind === "queue" ? [action.task.job] : []));
const replies = (planned: ScanPlan): string[] =>
  planned.actions.flatMap((action) => (action.kind === "comment" ? [action.body] : []));
const pageOf = (number: number) => `${emulator.url}/${REPO}/pull/${number}`;

function trigger(sha: string, context: string, targetUrl?: string) {
  return {
    event: "status",
    request: {
      sha,
      context,
      state: "pending",
      description: "Not yet tested (direct trigger)",
      ...(targetUrl === undefined ? {} : { target_url: targetUrl }),
      repository: { full_name: REPO },
    },
  };
}

async function openPull(author: string, fork?: string) {
  return emulator.openPull({
    repo: REPO,
    author,
    files: { [`f-${Math.random()}`]: "x\n" },
    deliver: false,
    ...(fork === undefined ? {} : { fork }),
  });
}

/** The pull_request event GitHub would send for the PR as it is now, built from its REST JSON. */
async function openedEvent(number: number) {
  const pull = (await (await fetch(`${emulator.url}/repos/${REPO}/pulls/${number}`)).json()) as {
    head: { repo: unknown };
    base: { repo: unknown };
  };
  return {
    event: "pull_request",
    request: { action: "opened", number, pull_request: pull, repository: pull.base.repo },
  };
}

function assertTrusted(job: Job | undefined): void {
  assert.ok(job, "a job is queued");
  assert.notEqual(job.trusted, false);
  assert.deepEqual(job.secrets, ["github-token"]);
}

function assertUntrusted(job: Job | undefined): void {
  assert.ok(job, "a job is queued");
  assert.equal(job.trusted, false);
  assert.deepEqual(job.secrets, []);
}

before(async () => {
  emulator = await startEmulator({ dir: join(dir, "git") });
  await emulator.createRepo({ repo: REPO, files: { "README.md": "vault\n" } });
  await emulator.setOrgMembers("acme-devs", ["bob"]);
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

describe("direct triggers and re-runs", () => {
  test("the PR a trigger names comes from its target_url, the PR's page in the same repository", () => {
    assert.equal(pullOfTriggerUrl(REPO, "https://github.com/acme/vault/pull/12"), 12);
    assert.equal(pullOfTriggerUrl(REPO, "https://github.example/ACME/Vault/pull/3/"), 3);
    assert.equal(pullOfTriggerUrl(REPO, "https://github.com/acme/other/pull/12"), null);
    assert.equal(pullOfTriggerUrl(REPO, "https://github.com/acme/vault/pull/12/files"), null);
    assert.equal(pullOfTriggerUrl(REPO, "https://github.com/acme/vault/pull/0"), null);
    assert.equal(pullOfTriggerUrl(REPO, "not a url"), null);
    assert.equal(pullOfTriggerUrl(REPO, undefined), null);
  });

  test("at the head of the open trusted PR it names, a trigger runs trusted, with secrets", async () => {
    const pull = await openPull("alice");
    const job = jobs(await plan(trigger(pull.sha, "fedora/secret", pageOf(pull.number))))[0];
    assertTrusted(job);
    assert.equal(job?.pull, pull.number);
  });

  test("a commit that is no longer its PR's head, on no branch, runs untrusted and unattached to the PR", async () => {
    const pull = await openPull("alice");
    await emulator.pushToPull({ repo: REPO, number: pull.number, files: { more: "1\n" }, deliver: false });
    const named = await plan(trigger(pull.sha, "fedora/secret", pageOf(pull.number)));
    assertUntrusted(jobs(named)[0]);
    assert.equal(jobs(named)[0]?.pull, null, "a job of the PR would be superseded by its new head at once");
    const action = named.actions[0];
    assert.match(action?.kind === "queue" ? action.task.human : "", /no longer the head of #\d+/);
    const unnamed = await plan(trigger(pull.sha, "nightly/long"));
    assertUntrusted(jobs(unnamed)[0]);
  });

  test("a commit on a tested branch runs trusted, below the branch's tip too", async () => {
    const older = await emulator.pushBranch({ repo: REPO, branch: "main", files: { m: "1\n" } });
    await emulator.pushBranch({ repo: REPO, branch: "main", files: { m: "2\n" } });
    const planned = await plan(trigger(older.sha, "fedora/secret"));
    const job = jobs(planned)[0];
    assertTrusted(job);
    assert.equal(job?.pull, null);
    assert.equal(job?.env?.BASE_BRANCH, "main");
  });

  test("an untrusted author's PR head runs untrusted, whoever triggered it", async () => {
    const pull = await openPull("mallory");
    assertUntrusted(jobs(await plan(trigger(pull.sha, "fedora/secret", pageOf(pull.number))))[0]);
    assertUntrusted(jobs(await plan(trigger(pull.sha, "fedora/secret")))[0]);
  });

  test("a trigger or a re-run on a closed PR runs nothing and says why", async () => {
    const pull = await openPull("alice");
    await emulator.closePull({ repo: REPO, number: pull.number, deliver: false });
    const planned = await plan(trigger(pull.sha, "fedora/secret", pageOf(pull.number)));
    assert.deepEqual(planned.actions, []);
    assert.match(planned.ignored ?? "", new RegExp(`pull #${pull.number} is closed`));
    const rerun = await plan({
      event: "check_run",
      request: {
        action: "rerequested",
        check_run: { name: "fedora/secret", head_sha: pull.sha, pull_requests: [{ number: pull.number }] },
        repository: { full_name: REPO },
      },
    });
    assert.match(rerun.ignored ?? "", /is closed/);
    const gone = await plan(trigger(pull.sha, "nightly/long", pageOf(9999)));
    assertUntrusted(jobs(gone)[0]);
  });

  test("a forge failing while listing or fetching PRs, or comparing, leaves the decision undecided", async () => {
    const pull = await openPull("mallory");
    const undecided = (error: unknown) =>
      error instanceof TrustUndecidedError && /trying again later/.test(error.message);
    await emulator.injectFault({ path: `/repos/${REPO}/pulls/${pull.number}`, status: 502 });
    await assert.rejects(plan(trigger(pull.sha, "fedora/secret", pageOf(pull.number))), undecided);
    await emulator.injectFault({ path: `/repos/${REPO}/pulls`, status: 500 });
    await assert.rejects(plan(trigger(pull.sha, "fedora/secret")), undecided);
    await emulator.injectFault({ path: `/repos/${REPO}/compare/**`, status: 503 });
    await assert.rejects(plan(trigger(pull.sha, "fedora/secret")), undecided);
    await emulator.injectFault({ path: "/orgs/acme-devs/members/mallory", status: 500 });
    await assert.rejects(plan(trigger(pull.sha, "fedora/secret")), undecided);
    assertUntrusted(jobs(await plan(trigger(pull.sha, "fedora/secret")))[0]);
  });

  test("the scanner puts an undecided entry back and queues the job, untrusted, once the forge answers", async () => {
    const pull = await openPull("mallory");
    await emulator.injectFault({ method: "GET", path: `/repos/${REPO}/pulls`, status: 502, times: 2 });
    const scanner = await startScanner({ ...deps(), queue });
    try {
      await queue.publish("webhook", JSON.stringify(trigger(pull.sha, "fedora/secret")));
      const entries = await waitFor("the job", async () => {
        const info = await queue.inspect("public", 10);
        return info.ready > 0 ? info.entries : undefined;
      });
      assert.equal(entries.length, 1, "one job, from the try that could decide");
      const entry = parseTaskEntry(entries[0]?.body ?? Buffer.alloc(0), "public");
      assertUntrusted(entry.kind === "job" ? entry.job : undefined);
      const listings = (await emulator.requests()).filter(
        (r) => r.method === "GET" && r.path.startsWith(`/repos/${REPO}/pulls?`),
      );
      assert.deepEqual(
        listings.slice(-3).map((r) => r.status),
        [502, 502, 200],
      );
    } finally {
      await scanner.cancel();
      await queue.purge("public");
    }
  });
});

describe("forks", () => {
  test("a trusted author's PR from an untrusted owner's fork waits for manual testing", async () => {
    const pull = await openPull("alice", "mallory");
    const planned = await plan(await openedEvent(pull.number));
    assert.deepEqual(
      planned.actions.map((a) => [a.kind, a.kind === "status" ? a.description : ""]),
      [["status", "Manual testing required"]],
    );
    assertUntrusted(jobs(await plan(trigger(pull.sha, "fedora/secret", pageOf(pull.number))))[0]);
  });

  test("the author's own fork, a trusted member's fork and a trusted org's fork are trusted", async () => {
    for (const owner of ["alice", "bob", "acme-devs"]) {
      const pull = await openPull("alice", owner);
      assertTrusted(jobs(await plan(await openedEvent(pull.number)))[0]);
    }
    const fromFork = await openPull("alice", "bob");
    assertTrusted(
      jobs(await planScan(deps(), pullRequestScan(await forge().getPull(REPO, fromFork.number))))[0],
    );
  });

  test("a PR whose fork was deleted is not trusted", async () => {
    const pull = await openPull("alice", "alice");
    const event = await openedEvent(pull.number);
    event.request.pull_request.head.repo = null;
    assert.equal((await plan(event)).actions[0]?.kind, "status");
  });
});

describe("approvals cover the head they were written about", () => {
  /** An untrusted PR scanned as GitHub's opened event would be: its head gets Manual testing required. */
  async function markedPull() {
    const pull = await openPull("mallory");
    await scan(await openedEvent(pull.number));
    const marked = (await emulator.statuses(REPO, pull.sha))[0]?.created_at ?? "";
    assert.match(marked, /Z$/, "the head carries hangar's status");
    return { ...pull, marked };
  }

  /** Pushes a new head once GitHub's clock has passed `after`, and scans its synchronize event. */
  async function pushAfter(number: number, after: string) {
    await waitFor("the next second", async () => (githubTime() > after ? true : undefined), 5000);
    const pushed = await emulator.pushToPull({ repo: REPO, number, files: { later: "1\n" }, deliver: false });
    await scan(await openedEvent(number));
    return pushed;
  }

  test("a push after /hangar approve is not run; the reply asks for a new approval", async () => {
    const pull = await markedPull();
    const approval = commentEnvelope(REPO, pull.number, "alice", "/hangar approve", pull.marked);
    const pushed = await pushAfter(pull.number, pull.marked);
    const late = await scan(approval);
    assert.deepEqual(jobs(late), []);
    const [reply, ...more] = replies(late);
    assert.deepEqual(more, [], "one reply");
    assert.match(reply ?? "", new RegExp(`${pushed.sha.slice(0, 8)} became the head .* after your comment`));
    assert.match(reply ?? "", /approve/);
    assert.deepEqual(
      (await emulator.statuses(REPO, pushed.sha)).map((s) => s.description),
      ["Manual testing required"],
      "nothing started on the new head",
    );
    const fresh = await scan(commentEnvelope(REPO, pull.number, "alice", "/hangar approve"));
    const job = jobs(fresh)[0];
    assertUntrusted(job);
    assert.equal(job?.sha, pushed.sha);
  });

  test("/hangar test and /hangar retest on an untrusted PR are approvals too", async () => {
    const pull = await markedPull();
    await pushAfter(pull.number, pull.marked);
    for (const command of ["/hangar test nightly/long", "/hangar retest"]) {
      const late = await plan(commentEnvelope(REPO, pull.number, "alice", command, pull.marked));
      assert.deepEqual(jobs(late), []);
      assert.match(replies(late)[0] ?? "", /after your comment/);
    }
    assertUntrusted(
      jobs(await plan(commentEnvelope(REPO, pull.number, "alice", "/hangar test nightly/long")))[0],
    );
  });

  test("/hangar approve SHA approves that head and no other", async () => {
    const pull = await markedPull();
    const pushed = await pushAfter(pull.number, pull.marked);
    const old = await plan(
      commentEnvelope(REPO, pull.number, "alice", `/hangar approve ${pull.sha.slice(0, 10)}`),
    );
    assert.deepEqual(jobs(old), []);
    assert.match(replies(old)[0] ?? "", new RegExp(`head of this pull request is ${pushed.sha.slice(0, 8)}`));
    const named = await plan(
      commentEnvelope(REPO, pull.number, "alice", `/hangar approve ${pushed.sha.slice(0, 7)}`, pull.marked),
    );
    assert.equal(jobs(named)[0]?.sha, pushed.sha, "the named head, however late the comment is read");
  });

  test("a head hangar never marked, or a comment without a time, approves nothing", async () => {
    const unmarked = await openPull("mallory");
    const planned = await plan(commentEnvelope(REPO, unmarked.number, "alice", "/hangar approve"));
    assert.deepEqual(jobs(planned), []);
    assert.match(replies(planned)[0] ?? "", /approve/);
    const pull = await markedPull();
    const timeless = commentEnvelope(REPO, pull.number, "alice", "/hangar approve");
    delete (timeless.request.comment as { created_at?: string }).created_at;
    assert.deepEqual(jobs(await plan(timeless)), []);
  });

  test("statuses that cannot be read leave the approval undecided, without a reply", async () => {
    const pull = await markedPull();
    await emulator.injectFault({ path: `/repos/${REPO}/commits/${pull.sha}/status`, status: 500 });
    await assert.rejects(plan(commentEnvelope(REPO, pull.number, "alice", "/hangar approve")), /500/);
    assertUntrusted(jobs(await plan(commentEnvelope(REPO, pull.number, "alice", "/hangar approve")))[0]);
  });

  test("a trusted author's PR needs no approval: commands run at its head, whenever read", async () => {
    const pull = await openPull("alice");
    const old = githubTime(new Date(Date.now() - 3600_000));
    assertTrusted(
      jobs(await plan(commentEnvelope(REPO, pull.number, "alice", "/hangar test nightly/long", old)))[0],
    );
  });
});
