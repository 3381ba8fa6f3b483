import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { GitHubForge, isRetryable, retryDelay } from "../../src/forge/github.js";
import {
  createForge,
  DEFAULT_RETRY,
  ForgeError,
  OutboxForge,
  type RetryPolicy,
  StatusOutbox,
} from "../../src/forge/index.js";
import { silentLogger } from "../../src/util/logger.js";
import { tempDir } from "../emulator/helpers.js";

const TOKEN = "faults-token";
const REPO = "acme/faults";
const FAST: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 5,
  maxDelayMs: 20,
  maxRateLimitWaitMs: 1500,
  timeoutMs: 300,
};

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("retry delays", () => {
  const policy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000, maxRateLimitWaitMs: 60_000 };
  const now = Date.parse("2024-06-01T12:00:00Z");

  test("exponential backoff, capped", () => {
    assert.equal(retryDelay(policy, 1, { status: 502, detail: "" }, now), 100);
    assert.equal(retryDelay(policy, 3, { status: 502, detail: "" }, now), 400);
    assert.equal(retryDelay(policy, 10, { status: 502, detail: "" }, now), 1000);
  });

  test("Retry-After in seconds or as a date, x-ratelimit-reset, each capped", () => {
    const limited = (headers: Record<string, string>) => ({ status: 429, detail: "", headers });
    assert.equal(retryDelay(policy, 1, limited({ "retry-after": "7" }), now), 7000);
    assert.equal(
      retryDelay(policy, 1, limited({ "retry-after": new Date(now + 3000).toUTCString() }), now),
      3000,
    );
    const reset = { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(now / 1000 + 20) };
    assert.equal(retryDelay(policy, 1, limited(reset), now), 21_000);
    assert.equal(retryDelay(policy, 1, limited({ "retry-after": "3600" }), now), 60_000);
  });

  test("what is retried: 5xx, 429, rate-limited 403, no answer; not a plain 403 or 4xx", () => {
    assert.ok(isRetryable({ status: undefined, detail: "" }));
    assert.ok(isRetryable({ status: 502, detail: "" }));
    assert.ok(isRetryable({ status: 429, detail: "" }));
    assert.ok(isRetryable({ status: 403, detail: "", headers: { "x-ratelimit-remaining": "0" } }));
    assert.ok(isRetryable({ status: 403, detail: "", headers: { "retry-after": "1" } }));
    assert.ok(!isRetryable({ status: 403, detail: "", headers: { "x-ratelimit-remaining": "10" } }));
    assert.ok(!isRetryable({ status: 422, detail: "" }));
  });

  test("the default policy bounds requests and rate-limit waits", () => {
    assert.ok((DEFAULT_RETRY.timeoutMs ?? 0) > 0);
    assert.ok((DEFAULT_RETRY.maxRateLimitWaitMs ?? 0) > 0);
  });
});

describe("GitHub API faults through the emulator", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let emu: Emulator;
  let sha: string;

  before(async () => {
    dir = await tempDir("forge-faults");
    emu = await startEmulator({ dir: join(dir.path, "git"), token: TOKEN });
    ({ sha } = await emu.createRepo({ repo: REPO, files: { "a.txt": "a" } }));
  });
  after(async () => {
    await emu.close();
    await dir.remove();
  });

  const github = () => new GitHubForge({ api: emu.url, token: TOKEN, logger: silentLogger(), retry: FAST });
  const statusPath = () => `/repos/${REPO}/statuses/${sha}`;
  const contexts = async (context: string) =>
    (await emu.statuses(REPO, sha)).filter((s) => s.context === context).map((s) => s.description);

  test("a hanging request is aborted by the timeout and tried again", async () => {
    await emu.injectFault({ method: "GET", path: `/repos/${REPO}/pulls`, delayMs: 5000 });
    const started = Date.now();
    assert.deepEqual(await github().listOpenPulls(REPO), []);
    assert.ok(Date.now() - started < 4500, "did not wait for the hanging answer");
    const tries = (await emu.requests()).filter((r) => r.path.startsWith(`/repos/${REPO}/pulls`));
    assert.ok(tries.some((r) => r.status === 200));
  });

  test("429 with Retry-After and a 403 rate limit with x-ratelimit-reset are waited out", async () => {
    await emu.injectFault({
      method: "POST",
      path: statusPath(),
      status: 429,
      headers: { "retry-after": "1" },
    });
    const reset = String(Math.floor(Date.now() / 1000));
    await emu.injectFault({
      method: "POST",
      path: statusPath(),
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset },
      body: { message: "API rate limit exceeded" },
    });
    const started = Date.now();
    await github().postStatus(REPO, sha, { context: "limits", state: "success", description: "ok" });
    assert.ok(Date.now() - started >= 900, "Retry-After was honoured");
    assert.deepEqual(await contexts("limits"), ["ok"]);
  });

  test("a 403 that is not a rate limit fails at once, not retryable", async () => {
    await emu.injectFault({
      method: "POST",
      path: statusPath(),
      status: 403,
      body: { message: "Forbidden" },
    });
    await assert.rejects(
      github().postStatus(REPO, sha, { context: "perm", state: "success" }),
      (error: unknown) => error instanceof ForgeError && error.status === 403 && !error.retryable,
    );
  });

  test("statuses GitHub would not take go to the outbox and arrive later, in order", async () => {
    const outboxFile = join(dir.path, "outbox.sqlite");
    const forge = createForge({
      api: emu.url,
      token: TOKEN,
      post: true,
      logger: silentLogger(),
      retry: FAST,
      outbox: outboxFile,
    });
    try {
      // Every try of the first status fails: 502, 502, timeout.
      await emu.injectFault({ method: "POST", path: statusPath(), status: 502, times: 2 });
      await emu.injectFault({ method: "POST", path: statusPath(), delayMs: 2000 });
      await forge.postStatus(REPO, sha, { context: "ob", state: "pending", description: "In progress [w]" });
      // Later statuses of the same context queue behind it; another context goes straight through.
      await forge.postStatus(REPO, sha, { context: "ob", state: "success", description: "Success [w]" });
      await forge.postStatus(REPO, sha, { context: "other", state: "success", description: "direct" });
      assert.deepEqual(await contexts("other"), ["direct"]);
      await waitFor("the outbox to post both", async () => (await contexts("ob")).length === 2);
      assert.deepEqual(await contexts("ob"), ["In progress [w]", "Success [w]"]);
    } finally {
      await forge.close();
    }
  });

  test("the outbox survives a restart and is drained by the next process", async () => {
    const outboxFile = join(dir.path, "outbox-restart.sqlite");
    const stored = new StatusOutbox(outboxFile);
    stored.add(REPO, sha, { context: "restart", state: "pending", description: "first" });
    stored.add(REPO, sha, { context: "restart", state: "failure", description: "second" });
    stored.close();
    const forge = new OutboxForge(github(), new StatusOutbox(outboxFile), {
      logger: silentLogger(),
      backoff: { minMs: 10, maxMs: 50 },
    });
    try {
      await forge.flushed();
      assert.deepEqual(await contexts("restart"), ["first", "second"]);
      assert.equal(forge.outbox.size, 0);
    } finally {
      await forge.close();
    }
  });

  test("a status refused for good (422) is not kept: the caller hears of it", async () => {
    const forge = createForge({
      api: emu.url,
      token: TOKEN,
      post: true,
      logger: silentLogger(),
      retry: FAST,
      outbox: join(dir.path, "outbox-422.sqlite"),
    });
    try {
      await assert.rejects(
        forge.postStatus(REPO, sha, { context: "long", state: "success", description: "x".repeat(141) }),
        (error: unknown) => error instanceof ForgeError && error.status === 422,
      );
    } finally {
      await forge.close();
    }
  });
});
