import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { createForge, type Forge, ForgeError } from "../../src/forge/index.js";
import { createLogger, silentLogger } from "../../src/util/logger.js";
import { tempDir } from "../emulator/helpers.js";

const TOKEN = "forge-test-token-abc";
const REPO = "acme/app";
const FAST_RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 50 };

describe("GitHub forge against the emulator", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let emu: Emulator;
  let forge: Forge;
  let baseSha: string;
  let pull: { number: number; sha: string };

  before(async () => {
    dir = await tempDir("forge");
    emu = await startEmulator({ dir: dir.path, token: TOKEN });
    ({ sha: baseSha } = await emu.createRepo({
      repo: REPO,
      files: { ".hangar/run": { content: "#!/bin/sh\n", executable: true } },
    }));
    await emu.setOrgMembers("acme", ["alice"]);
    pull = await emu.openPull({
      repo: REPO,
      files: { "x.txt": "x" },
      title: "Change x",
      author: "alice",
      labels: ["no-test"],
      branch: "feature",
    });
    forge = createForge({
      api: emu.url,
      token: TOKEN,
      post: true,
      logger: silentLogger(),
      retry: FAST_RETRY,
    });
  });

  after(async () => {
    await emu.close();
    await dir.remove();
  });

  test("getPull and listOpenPulls map GitHub's JSON", async () => {
    assert.deepEqual(await forge.getPull(REPO, pull.number), {
      number: pull.number,
      state: "open",
      title: "Change x",
      author: "alice",
      labels: ["no-test"],
      headSha: pull.sha,
      headRef: "feature",
      headOwner: "acme",
      baseRef: "main",
      repo: REPO,
      htmlUrl: `${emu.url}/${REPO}/pull/${pull.number}`,
    });
    const open = await forge.listOpenPulls(REPO);
    assert.deepEqual(
      open.map((p) => p.number),
      [pull.number],
    );
  });

  test("a PR from a fork names the fork's owner as head owner", async () => {
    const forked = await emu.openPull({ repo: REPO, files: { f: "1" }, author: "alice", fork: "mallory" });
    const read = await forge.getPull(REPO, forked.number);
    assert.equal(read.headOwner, "mallory");
    assert.equal(read.headSha, forked.sha);
  });

  test("isOnBranch: a branch's tip and its ancestors are on it; a PR's head and unknown names are not", async () => {
    const onMain = await emu.pushBranch({ repo: REPO, branch: "main", files: { "m.txt": "1" } });
    const later = await emu.pushBranch({ repo: REPO, branch: "main", files: { "m.txt": "2" } });
    assert.equal(await forge.isOnBranch?.(REPO, "main", later.sha), true, "the tip");
    assert.equal(await forge.isOnBranch?.(REPO, "main", onMain.sha), true, "an ancestor");
    assert.equal(await forge.isOnBranch?.(REPO, "main", baseSha), true, "the first commit");
    assert.equal(await forge.isOnBranch?.(REPO, "main", pull.sha), false, "a PR's head");
    assert.equal(await forge.isOnBranch?.(REPO, "no-such-branch", baseSha), false);
    assert.equal(await forge.isOnBranch?.(REPO, "main", "f".repeat(40)), false, "an unknown commit");
    await emu.injectFault({ path: `/repos/${REPO}/compare/**`, status: 500, times: FAST_RETRY.attempts });
    await assert.rejects(
      forge.isOnBranch?.(REPO, "main", baseSha) ?? Promise.resolve(),
      (error: unknown) => error instanceof ForgeError && error.status === 500,
      "a failing forge throws rather than answering",
    );
  });

  test("posted statuses come back as the latest per context, across pages", async () => {
    await forge.postStatus(REPO, pull.sha, {
      context: "unit",
      state: "pending",
      description: "Not yet tested",
    });
    await forge.postStatus(REPO, pull.sha, {
      context: "unit",
      state: "success",
      description: "Success [w1]",
      target_url: "http://log/1",
    });
    for (let i = 0; i < 110; i++)
      await forge.postStatus(REPO, pull.sha, { context: `many/${i}`, state: "pending" });
    const statuses = await forge.getStatuses(REPO, pull.sha);
    assert.equal(statuses.size, 111);
    const { created_at, ...unit } = statuses.get("unit") ?? { created_at: null };
    assert.deepEqual(unit, {
      context: "unit",
      state: "success",
      description: "Success [w1]",
      target_url: "http://log/1",
    });
    assert.match(created_at ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, "GitHub's time, whole seconds");
    assert.equal(statuses.get("many/109")?.state, "pending");
    const pages = (await emu.requests()).filter((r) =>
      r.path.startsWith(`/repos/${REPO}/commits/${pull.sha}/status?`),
    );
    assert.equal(pages.length, 2, "two pages of 100");
  });

  test("a description over 140 characters is refused with a clear error", async () => {
    await assert.rejects(
      forge.postStatus(REPO, pull.sha, { context: "unit", state: "failure", description: "y".repeat(141) }),
      (error: unknown) =>
        error instanceof ForgeError &&
        error.status === 422 &&
        /POST \/repos\/acme\/app\/statuses\/[0-9a-f]{40}/.test(error.message),
    );
  });

  test("readFile: the file's text, or null when missing", async () => {
    assert.equal(await forge.readFile(REPO, pull.sha, ".hangar/run"), "#!/bin/sh\n");
    assert.equal(await forge.readFile(REPO, pull.sha, "x.txt"), "x");
    assert.equal(await forge.readFile(REPO, baseSha, "x.txt"), null);
    assert.equal(await forge.readFile(REPO, "no-such-branch", ".hangar/run"), null);
    assert.equal(await forge.readFile(REPO, "main", ".hangar"), null, "a directory is not a file");
  });

  test("isOrgMember", async () => {
    assert.equal(await forge.isOrgMember("acme", "alice"), true);
    assert.equal(await forge.isOrgMember("acme", "mallory"), false);
    // GitHub answers 302 (to the public member list) when the requester is not in the org.
    const location = `${emu.url}/orgs/acme/public_members/alice`;
    await emu.injectFault({ path: "/orgs/acme/members/alice", status: 302, headers: { location } });
    assert.equal(await forge.isOrgMember("acme", "alice"), false);
  });

  test("issues and comments", async () => {
    const number = await forge.createIssue(REPO, { title: "Flake", body: "details", labels: ["flake"] });
    await forge.comment(REPO, number, "seen again");
    const posted = (await emu.requests()).filter(
      (r) => r.method === "POST" && r.path.startsWith(`/repos/${REPO}/issues`),
    );
    assert.deepEqual(
      posted.map((r) => r.body),
      [{ title: "Flake", body: "details", labels: ["flake"] }, { body: "seen again" }],
    );
  });

  test("retries an injected 502 and 429, then succeeds", async () => {
    await emu.injectFault({ method: "GET", path: `/repos/${REPO}/pulls/${pull.number}`, status: 502 });
    await emu.injectFault({
      method: "GET",
      path: `/repos/${REPO}/pulls/${pull.number}`,
      status: 429,
      headers: { "retry-after": "0" },
    });
    assert.equal((await forge.getPull(REPO, pull.number)).number, pull.number);
    const tries = (await emu.requests())
      .filter((r) => r.path === `/repos/${REPO}/pulls/${pull.number}`)
      .slice(-3);
    assert.deepEqual(
      tries.map((r) => r.status),
      [502, 429, 200],
    );
  });

  test("gives up after the bounded attempts, naming the request but never the token", async () => {
    await emu.injectFault({ path: `/repos/${REPO}/pulls/${pull.number}`, status: 503, times: 3 });
    await assert.rejects(forge.getPull(REPO, pull.number), (error: unknown) => {
      assert.ok(error instanceof ForgeError);
      assert.equal(error.status, 503);
      assert.match(error.message, new RegExp(`GET /repos/${REPO}/pulls/${pull.number}.*503`));
      assert.ok(!error.message.includes(TOKEN));
      return true;
    });
  });

  test("a 404 is not retried", async () => {
    const before = (await emu.requests()).length;
    await assert.rejects(
      forge.getPull(REPO, 999),
      (error: unknown) => error instanceof ForgeError && error.status === 404,
    );
    assert.equal((await emu.requests()).length - before, 1);
  });

  test("network errors through an injected fetch are retried", async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls += 1;
      if (calls === 1) throw new TypeError("fetch failed", { cause: new Error("ECONNRESET") });
      return fetch(input, init);
    };
    const viaFlaky = createForge({
      api: emu.url,
      token: TOKEN,
      post: true,
      logger: silentLogger(),
      fetch: flaky,
      retry: FAST_RETRY,
    });
    assert.equal((await viaFlaky.getPull(REPO, pull.number)).headSha, pull.sha);
    assert.equal(calls, 2);
  });

  test("a wrong token fails with 401", async () => {
    const wrong = createForge({
      api: emu.url,
      token: "nope",
      post: true,
      logger: silentLogger(),
      retry: FAST_RETRY,
    });
    await assert.rejects(
      wrong.getPull(REPO, pull.number),
      (error: unknown) => error instanceof ForgeError && error.status === 401,
    );
  });

  test("dry run reads but does not post, and logs what it would post", async () => {
    let logged = "";
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    const dry = createForge({
      api: emu.url,
      token: TOKEN,
      post: false,
      logger: createLogger({ destination }),
      retry: FAST_RETRY,
    });
    const before = (await emu.statuses(REPO, baseSha)).length;
    const requestsBefore = (await emu.requests()).length;
    assert.equal((await dry.getPull(REPO, pull.number)).number, pull.number);
    await dry.postStatus(REPO, baseSha, { context: "dry", state: "pending", description: "Not yet tested" });
    assert.equal(await dry.createIssue(REPO, { title: "t", body: "b" }), 0);
    await dry.comment(REPO, pull.number, "c");
    assert.equal((await emu.statuses(REPO, baseSha)).length, before);
    const sent = (await emu.requests()).slice(requestsBefore);
    assert.deepEqual(
      sent.map((r) => r.method),
      ["GET"],
      "only the read reached the API",
    );
    assert.match(logged, /would post status dry: pending/);
    assert.ok(!logged.includes(TOKEN));
  });
});
