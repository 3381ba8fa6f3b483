/** What trust decisions read of the emulator: forks, comment times, commit comparisons, status times. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connectEmulator, type Emulator, startEmulator } from "../../src/emulator/index.js";
import { json, runGit, startReceiver, tempDir } from "./helpers.js";

const REPO = "acme/trusty";
const GITHUB_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe("GitHub emulator: data for trust decisions", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let emu: Emulator;
  let baseSha: string;
  const api = (path: string): Promise<Response> => fetch(`${emu.url}${path}`);
  const lastHook = () => JSON.parse(receiver.received.at(-1)?.body ?? "{}");
  const refsOf = async (): Promise<string> => runGit(dir.path, ["ls-remote", `${emu.cloneBase}/${REPO}`]);

  before(async () => {
    dir = await tempDir("emu-trust");
    receiver = await startReceiver();
    emu = await startEmulator({ dir: join(dir.path, "repos"), webhook: { url: receiver.url, secret: "s" } });
    ({ sha: baseSha } = await emu.createRepo({ repo: REPO, files: { "README.md": "x\n" } }));
  });
  after(async () => {
    await emu.close();
    await receiver.close();
    await dir.remove();
  });

  test("a PR from a fork: head.repo is the fork's, and its branch is no branch of the base repository", async () => {
    const opened = await emu.openPull({ repo: REPO, files: { f: "1\n" }, author: "alice", fork: "mallory" });
    const head = lastHook().pull_request.head;
    assert.equal(head.sha, opened.sha);
    assert.equal(head.repo.owner.login, "mallory");
    assert.equal(head.repo.full_name, "mallory/trusty");
    assert.equal(head.repo.fork, true);
    assert.equal(head.label, `mallory:${opened.branch}`);
    assert.equal(lastHook().pull_request.base.repo.full_name, REPO);
    const refs = await refsOf();
    assert.match(refs, new RegExp(`^${opened.sha}\trefs/pull/${opened.number}/head$`, "m"));
    assert.doesNotMatch(refs, new RegExp(`refs/heads/${opened.branch}$`, "m"));

    const pushed = await emu.pushToPull({ repo: REPO, number: opened.number, files: { f: "2\n" } });
    const after = await refsOf();
    assert.match(after, new RegExp(`^${pushed.sha}\trefs/pull/${opened.number}/head$`, "m"));
    assert.doesNotMatch(after, new RegExp(`refs/heads/${opened.branch}$`, "m"));

    const own = await emu.openPull({ repo: REPO, files: { g: "1\n" }, author: "alice" });
    assert.equal(lastHook().pull_request.head.repo.full_name, REPO, "without a fork: the base repository");
    assert.match(await refsOf(), new RegExp(`^${own.sha}\trefs/heads/${own.branch}$`, "m"));
  });

  test("a comment sends issue_comment with GitHub's created_at; without delivery the event comes back", async () => {
    const pull = await emu.openPull({ repo: REPO, files: { h: "1\n" }, author: "mallory", deliver: false });
    const client = connectEmulator(emu.url);
    const sent = await client.addComment({
      repo: REPO,
      number: pull.number,
      author: "alice",
      body: "/hangar approve",
    });
    assert.equal(sent.delivery?.status, 200);
    assert.match(sent.createdAt, GITHUB_TIME);
    const hook = lastHook();
    assert.equal(receiver.received.at(-1)?.headers["x-github-event"], "issue_comment");
    assert.equal(hook.action, "created");
    assert.equal(hook.comment.created_at, sent.createdAt);
    assert.equal(hook.comment.user.login, "alice");
    assert.equal(hook.comment.body, "/hangar approve");
    assert.equal(hook.issue.number, pull.number);
    assert.ok(hook.issue.pull_request, "a comment on a PR says so");
    assert.equal(hook.repository.full_name, REPO);
    assert.equal(hook.sender.login, "alice");

    const count = receiver.received.length;
    const silent = await emu.addComment({ repo: REPO, number: pull.number, author: "bob", body: "later" });
    assert.equal(silent.delivery?.status, 200);
    const quiet = await emu.addComment({
      repo: REPO,
      number: pull.number,
      author: "bob",
      body: "quiet",
      deliver: false,
    });
    assert.equal(quiet.delivery, null);
    assert.equal(receiver.received.length, count + 1, "deliver: false sends nothing");
    assert.equal((quiet.event.comment as { body: string }).body, "quiet");
    const listed = await json(api(`/repos/${REPO}/issues/${pull.number}/comments`));
    assert.deepEqual(
      listed.map((c: { body: string; created_at: string }) => [c.body, GITHUB_TIME.test(c.created_at)]),
      [
        ["/hangar approve", true],
        ["later", true],
        ["quiet", true],
      ],
    );
    await assert.rejects(client.addComment({ repo: REPO, number: 999, author: "a", body: "x" }), /no issue/);
  });

  test("compare base...head: identical, behind, ahead, diverged; 404 for unknown names", async () => {
    const first = await emu.pushBranch({ repo: REPO, branch: "main", files: { c: "1\n" } });
    const second = await emu.pushBranch({ repo: REPO, branch: "main", files: { c: "2\n" } });
    const side = await emu.pushBranch({ repo: REPO, branch: "side", from: first.sha, files: { s: "1\n" } });
    const compare = async (basehead: string) => json(api(`/repos/${REPO}/compare/${basehead}`));
    const tip = await compare(`main...${second.sha}`);
    assert.deepEqual([tip.status, tip.ahead_by, tip.behind_by, tip.total_commits], ["identical", 0, 0, 0]);
    const older = await compare(`main...${baseSha}`);
    assert.deepEqual([older.status, older.ahead_by, older.behind_by], ["behind", 0, 2]);
    assert.equal(older.merge_base_commit.sha, baseSha);
    const ahead = await compare(`${first.sha}...main`);
    assert.deepEqual([ahead.status, ahead.ahead_by], ["ahead", 1]);
    assert.deepEqual(
      ahead.commits.map((c: { sha: string }) => c.sha),
      [second.sha],
    );
    const diverged = await compare("main...side");
    assert.deepEqual([diverged.status, diverged.ahead_by, diverged.behind_by], ["diverged", 1, 1]);
    assert.equal(diverged.commits[0].sha, side.sha);
    assert.equal((await api(`/repos/${REPO}/compare/nope...${second.sha}`)).status, 404);
    assert.equal((await api(`/repos/${REPO}/compare/main...${"f".repeat(40)}`)).status, 404);
  });

  test("statuses carry GitHub's created_at in the combined status", async () => {
    const response = await fetch(`${emu.url}/repos/${REPO}/statuses/${baseSha}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ state: "pending", context: "unit", description: "Manual testing required" }),
    });
    assert.equal(response.status, 201);
    const combined = await json(api(`/repos/${REPO}/commits/${baseSha}/status`));
    assert.match(combined.statuses[0].created_at, GITHUB_TIME);
    assert.equal(combined.statuses[0].created_at, (await emu.statuses(REPO, baseSha))[0]?.created_at);
  });
});
