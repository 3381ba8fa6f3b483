import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { verify } from "@octokit/webhooks-methods";
import {
  connectEmulator,
  type Emulator,
  samplePullRequestEvent,
  startEmulator,
} from "../../src/emulator/index.js";
import { json, runGit, startReceiver, tempDir } from "./helpers.js";

const SECRET = "test-webhook-secret";
const TOKEN = "test-token-123";
const REPO = "acme/widget";

describe("GitHub emulator", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let emu: Emulator;
  let baseSha: string;
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${emu.url}${path}`, { ...init, headers: { authorization: `token ${TOKEN}`, ...init.headers } });

  before(async () => {
    dir = await tempDir("emu");
    receiver = await startReceiver();
    emu = await startEmulator({
      dir: join(dir.path, "repos"),
      token: TOKEN,
      webhook: { url: receiver.url, secret: SECRET },
    });
    ({ sha: baseSha } = await emu.createRepo({
      repo: REPO,
      files: {
        "README.md": "# widget\n",
        ".hangar/run": { content: "#!/bin/sh\necho tested\n", executable: true },
      },
    }));
  });

  after(async () => {
    await emu.close();
    await receiver.close();
    await dir.remove();
  });

  test("clones the repository by <clone>/<repo> with and without .git", async () => {
    for (const suffix of ["", ".git"]) {
      const target = join(dir.path, `clone${suffix || "-plain"}`);
      await runGit(dir.path, ["clone", "--quiet", `${emu.cloneBase}/${REPO}${suffix}`, target]);
      assert.equal(await readFile(join(target, "README.md"), "utf8"), "# widget\n");
      assert.equal(
        (await stat(join(target, ".hangar/run"))).mode & 0o111,
        0o111,
        ".hangar/run is executable",
      );
      assert.equal((await runGit(target, ["rev-parse", "HEAD"])).trim(), baseSha);
    }
  });

  test("opening a pull pushes its head and delivers a signed pull_request webhook", async () => {
    const before = receiver.received.length;
    const opened = await emu.openPull({
      repo: REPO,
      files: { "src/new.txt": "new\n", "README.md": null },
      title: "Add new",
      author: "alice",
      labels: ["bot"],
    });
    assert.equal(opened.delivery?.status, 200);
    const hook = receiver.received[before];
    assert.ok(hook, "the receiver got the delivery");
    assert.equal(hook.headers["x-github-event"], "pull_request");
    assert.equal(hook.headers["content-type"], "application/json");
    assert.match(String(hook.headers["user-agent"]), /^GitHub-Hookshot\//);
    assert.match(String(hook.headers["x-github-delivery"]), /^[0-9a-f-]{36}$/);
    assert.equal(await verify(SECRET, hook.body, String(hook.headers["x-hub-signature-256"])), true);
    assert.equal(await verify("other-secret", hook.body, String(hook.headers["x-hub-signature-256"])), false);
    const payload = JSON.parse(hook.body);
    assert.equal(payload.action, "opened");
    assert.equal(payload.number, opened.number);
    assert.equal(payload.pull_request.head.sha, opened.sha);
    assert.equal(payload.pull_request.base.sha, baseSha);
    assert.equal(payload.pull_request.user.login, "alice");
    assert.deepEqual(
      payload.pull_request.labels.map((l: { name: string }) => l.name),
      ["bot"],
    );
    assert.equal(payload.repository.full_name, REPO);
    assert.equal(payload.sender.login, "alice");
    assert.ok(hook.body.length > 15_000 && hook.body.length < 40_000, `payload is ${hook.body.length} bytes`);

    const work = join(dir.path, "pr-checkout");
    await runGit(dir.path, ["clone", "--quiet", `${emu.cloneBase}/${REPO}`, work]);
    await runGit(work, ["fetch", "--quiet", "origin", `refs/pull/${opened.number}/head`]);
    await runGit(work, ["checkout", "--quiet", opened.sha]);
    assert.equal(await readFile(join(work, "src/new.txt"), "utf8"), "new\n");
    await assert.rejects(stat(join(work, "README.md")), "the PR deleted README.md");

    const fresh = join(dir.path, "by-sha");
    await runGit(dir.path, ["init", "--quiet", fresh]);
    await runGit(fresh, ["fetch", "--quiet", `${emu.cloneBase}/${REPO}`, opened.sha]);
    assert.equal((await runGit(fresh, ["rev-parse", "FETCH_HEAD"])).trim(), opened.sha);

    const pushed = await emu.pushToPull({
      repo: REPO,
      number: opened.number,
      files: { "src/new.txt": "newer\n" },
    });
    const sync = JSON.parse(receiver.received.at(-1)?.body ?? "{}");
    assert.equal(sync.action, "synchronize");
    assert.equal(sync.before, opened.sha);
    assert.equal(sync.after, pushed.sha);
    const pull = await json(api(`/repos/${REPO}/pulls/${opened.number}`));
    assert.equal(pull.head.sha, pushed.sha);
    assert.equal(pull.commits, 2);

    await emu.closePull({ repo: REPO, number: opened.number });
    assert.equal(JSON.parse(receiver.received.at(-1)?.body ?? "{}").action, "closed");
    const open = await json(api(`/repos/${REPO}/pulls?state=open`));
    assert.ok(!open.some((p: { number: number }) => p.number === opened.number));
  });

  test("statuses: 422 on a long description, stored in order, status webhook sent", async () => {
    const post = (body: unknown): Promise<Response> =>
      api(`/repos/${REPO}/statuses/${baseSha}`, { method: "POST", body: JSON.stringify(body) });
    const long = await post({ state: "pending", context: "ci", description: "x".repeat(141) });
    assert.equal(long.status, 422);
    const error = await json(long);
    assert.equal(error.message, "Validation Failed");
    assert.equal(error.errors[0].field, "description");
    assert.equal((await post({ state: "bogus", context: "ci" })).status, 422);
    assert.equal((await post({ state: "pending", context: "ci", description: "x".repeat(140) })).status, 201);
    assert.equal((await post({ state: "success", context: "ci", target_url: "http://logs/1" })).status, 201);
    assert.equal(
      (
        await api(`/repos/${REPO}/statuses/${"0".repeat(40)}`, {
          method: "POST",
          body: '{"state":"success"}',
        })
      ).status,
      422,
    );

    const posted = await emu.statuses(REPO, baseSha);
    assert.deepEqual(
      posted.map((s) => s.state),
      ["pending", "success"],
    );
    assert.equal(posted[1]?.target_url, "http://logs/1");
    const combined = await json(api(`/repos/${REPO}/commits/main/status`));
    assert.equal(combined.state, "success");
    assert.equal(combined.total_count, 1);
    assert.equal(combined.sha, baseSha);

    await emu.idle();
    const statusHooks = receiver.received.filter((hook) => hook.headers["x-github-event"] === "status");
    assert.equal(statusHooks.length, 2);
    const last = JSON.parse(statusHooks[1]?.body ?? "{}");
    assert.equal(last.state, "success");
    assert.equal(last.sha, baseSha);
    assert.deepEqual(
      last.branches.map((b: { name: string }) => b.name),
      ["main"],
    );
  });

  test("auth: 401 without the token, Bearer accepted", async () => {
    const anonymous = await fetch(`${emu.url}/repos/${REPO}`);
    assert.equal(anonymous.status, 401);
    assert.equal((await json(anonymous)).message, "Bad credentials");
    assert.equal(
      (await fetch(`${emu.url}/repos/${REPO}`, { headers: { authorization: "token wrong" } })).status,
      401,
    );
    assert.equal(
      (await fetch(`${emu.url}/repos/${REPO}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
      200,
    );
  });

  test("contents in JSON and raw, 404 for missing; unknown routes 404", async () => {
    const file = await json(api(`/repos/${REPO}/contents/.hangar/run?ref=main`));
    assert.equal(file.type, "file");
    assert.equal(Buffer.from(file.content, "base64").toString(), "#!/bin/sh\necho tested\n");
    const raw = await api(`/repos/${REPO}/contents/.hangar/run?ref=${baseSha}`, {
      headers: { accept: "application/vnd.github.raw" },
    });
    assert.equal(await raw.text(), "#!/bin/sh\necho tested\n");
    assert.equal((await api(`/repos/${REPO}/contents/nope?ref=main`)).status, 404);
    const unknown = await api("/no/such/route");
    assert.equal(unknown.status, 404);
    assert.equal((await json(unknown)).message, "Not Found");
  });

  test("injected faults answer the next matching requests, then normal service resumes", async () => {
    await emu.injectFault({
      method: "GET",
      path: "/repos/*/*",
      status: 429,
      times: 2,
      headers: { "retry-after": "1" },
    });
    const first = await api(`/repos/${REPO}`);
    assert.equal(first.status, 429);
    assert.equal(first.headers.get("retry-after"), "1");
    assert.equal((await api(`/repos/${REPO}/pulls`)).status, 200, "other paths are not affected");
    assert.equal((await api(`/repos/${REPO}`)).status, 429);
    assert.equal((await api(`/repos/${REPO}`)).status, 200);
    const log = await emu.requests();
    assert.deepEqual(
      log
        .filter((r) => r.path === `/repos/${REPO}`)
        .slice(-3)
        .map((r) => r.status),
      [429, 429, 200],
    );
  });

  test("issues and comments", async () => {
    const created = await api(`/repos/${REPO}/issues`, {
      method: "POST",
      body: JSON.stringify({ title: "Flaky", body: "b", labels: ["flake"] }),
    });
    assert.equal(created.status, 201);
    const issue = await json(created);
    const comment = await api(`/repos/${REPO}/issues/${issue.number}/comments`, {
      method: "POST",
      body: '{"body":"again"}',
    });
    assert.equal(comment.status, 201);
    const closed = await api(`/repos/${REPO}/issues/${issue.number}`, {
      method: "PATCH",
      body: '{"state":"closed"}',
    });
    assert.equal((await json(closed)).state, "closed");
    const comments = await json(api(`/repos/${REPO}/issues/${issue.number}/comments`));
    assert.deepEqual(
      comments.map((c: { body: string }) => c.body),
      ["again"],
    );
    const open = await json(api(`/repos/${REPO}/issues?labels=flake`));
    assert.equal(open.length, 0);
  });

  test("the HTTP control API drives the same emulator", async () => {
    const client = connectEmulator(emu.url);
    assert.deepEqual(await client.info(), { url: emu.url, cloneBase: emu.cloneBase });
    await client.createRepo({ repo: "acme/other", files: { "a.txt": "a" } });
    await client.setOrgMembers("acme", ["bob"]);
    const opened = await client.openPull({ repo: "acme/other", files: { "b.txt": "b" }, author: "bob" });
    assert.equal(opened.delivery?.status, 200);
    const payload = JSON.parse(receiver.received.at(-1)?.body ?? "{}");
    assert.equal(payload.pull_request.author_association, "MEMBER");
    const member = await api("/orgs/acme/members/bob");
    assert.equal(member.status, 204);
    assert.equal((await api("/orgs/acme/members/mallory")).status, 404);
    await assert.rejects(client.createRepo({ repo: "acme/other" }), /exists/);
    await assert.rejects(client.openPull({ repo: "acme/missing", files: {} }), /no repository/);
  });

  test("deliver() sends arbitrary events; the sample payload is realistic", async () => {
    const payload = samplePullRequestEvent({ repo: REPO, number: 7 });
    const size = JSON.stringify(payload).length;
    assert.ok(size > 15_000, `sample payload is ${size} bytes`);
    const delivery = await emu.deliver("pull_request", payload);
    assert.equal(delivery.status, 200);
    assert.equal(JSON.parse(receiver.received.at(-1)?.body ?? "{}").number, 7);
    assert.ok((await emu.deliveries()).some((d) => d.id === delivery.id));
  });
});

describe("GitHub emulator without a webhook", () => {
  test("opens pulls without delivering, and deliver() fails", async () => {
    const dir = await tempDir("emu-nohook");
    const emu = await startEmulator({ dir: dir.path });
    try {
      await emu.createRepo({ repo: "o/r", files: { f: "1" } });
      const opened = await emu.openPull({ repo: "o/r", files: { f: "2" } });
      assert.equal(opened.delivery, null);
      assert.equal(
        (await fetch(`${emu.url}/repos/o/r/pulls/${opened.number}`)).status,
        200,
        "no token configured: open access",
      );
      await assert.rejects(emu.deliver("ping", {}), /no webhook/);
    } finally {
      await emu.close();
      await dir.remove();
    }
  });
});
