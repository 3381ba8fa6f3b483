/**
 * The dashboard over a real SQLite queue, a real fs store with a streamed
 * log, and the GitHub emulator for retry: pages, escaping, filters, the live
 * stream, and who may act.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type DashboardControl, type RunningDashboard, startDashboard } from "../../src/dashboard/index.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { createForge } from "../../src/forge/index.js";
import { JobDatabase } from "../../src/jobs/database.js";
import { openQueue, type QueueBackend } from "../../src/queue/index.js";
import { queueKinds } from "../../src/queue/layout.js";
import { openStore } from "../../src/store/index.js";
import { LogStreamer } from "../../src/store/log.js";
import type { Store } from "../../src/store/types.js";
import { silentLogger } from "../../src/util/logger.js";
import { recordJob, recordWorker, SHA } from "./fixtures.js";

const ADMIN = "admin-token-0123456789abcdef";
const layout = { webhook: "webhook", tasks: ["public", "internal"], statistics: "statistics" };

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("dashboard", () => {
  let dir: string;
  let queue: QueueBackend;
  let store: Store;
  let emulator: Emulator;
  let dashboard: RunningDashboard;
  let log: LogStreamer;
  let pullSha: string;
  let history: JobDatabase;
  const controlled: string[] = [];
  const control: DashboardControl = {
    cancelJob: async (id) => void controlled.push(`cancel ${id}`),
    drainWorker: async (name) => void controlled.push(`drain ${name}`),
  };
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(new URL(path, dashboard.url), { headers });
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(new URL(path, dashboard.url), {
      method: "POST",
      body: new URLSearchParams(form),
      headers,
      redirect: "manual",
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hangar-dashboard-"));
    history = new JobDatabase(join(dir, "jobs.sqlite"));
    queue = await openQueue({ driver: "sqlite", path: join(dir, "queue.sqlite"), layout });
    store = await openStore({ driver: "fs", dir: join(dir, "store"), publicUrl: "http://store.invalid/" });
    emulator = await startEmulator({ dir: join(dir, "git"), token: "gh-token-secret" });
    await emulator.createRepo({ repo: "acme/widget", files: { "README.md": "hi\n" } });
    pullSha = (
      await emulator.openPull({ repo: "acme/widget", author: "alice", title: "x", files: { "a.txt": "a\n" } })
    ).sha;

    log = new LogStreamer(
      store,
      "running-1",
      { title: "t", context: "debian/unit", repo: "acme/widget", sha: SHA, pull: 7, worker: "w1" },
      { flushIntervalMs: 50 },
    );
    log.write("first line <b>bold?</b>\n");
    await log.flush();
    recordJob(history, { id: "running-1", until: "running", queuedAt: "2024-05-01T11:00:00.000Z" });
    recordJob(history, { id: "done-ok", context: "fedora/unit", queuedAt: "2024-05-01T09:00:00.000Z" });
    recordJob(history, { id: "done-bad", context: "<script>alert(1)</script>", result: "failure", pull: 8 });
    recordJob(history, { id: "done-bad-2", repo: "acme/other", context: "flaky", result: "failure" });
    recordWorker(history, { name: "w1", capabilities: ["kvm", "browser"], running: ["running-1"] });
    await queue.publish(
      "public",
      JSON.stringify({ job: { repo: "acme/widget", sha: SHA, context: "arch/queued", pull: 9 } }),
      {
        priority: 6,
      },
    );
    dashboard = await startDashboard({
      listen: "127.0.0.1:0",
      sources: { queue, queues: queueKinds(layout), history, store },
      adminToken: ADMIN,
      forge: createForge({ api: emulator.url, token: "gh-token-secret", post: true, logger: silentLogger() }),
      control,
      logger: silentLogger(),
      liveIntervalMs: 100,
    });
  });
  after(async () => {
    await dashboard?.close();
    await log?.finish("success", "ok").catch(() => undefined);
    await queue?.close();
    await store?.close();
    history?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("the overview shows the running job, queue counts, the worker and recent results", async () => {
    const response = await get("/");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-security-policy") ?? "", /script-src 'nonce-/);
    const page = await response.text();
    assert.match(page, /<meta name="viewport"/);
    assert.match(page, /data-job="running-1"/);
    assert.match(page, /<a href="\/queues#queue-public">public<\/a><\/td><td class="num">1<\/td>/);
    assert.match(page, /data-worker="w1"/);
    assert.match(page, /kvm, browser/);
    assert.match(page, /data-job="done-ok"/);
    assert.match(page, /new EventSource/);
  });

  test("the queues page lists waiting entries as queue inspect does", async () => {
    const page = await (await get("/queues")).text();
    assert.match(
      page,
      /<tr class="entry"><td class="num">6<\/td><td>arch\/queued acme\/widget@0123456789ab #9<\/td>/,
    );
    assert.match(page, /1 ready<\/span>, 0 unacked/);
  });

  test("everything from outside is escaped, and no secret is shown anywhere", async () => {
    const pages = await Promise.all(
      ["/", "/queues", "/workers", "/jobs", "/flaky", "/jobs/done-bad", "/login"].map(async (path) =>
        (await get(path)).text(),
      ),
    );
    for (const page of pages) {
      assert.doesNotMatch(page, /<script>alert/);
      assert.ok(!page.includes(ADMIN), "the admin token is never rendered");
      assert.ok(!page.includes("gh-token-secret"), "the GitHub token is never rendered");
    }
    assert.match(pages[3] ?? "", /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  test("the history filters by repository, PR, context and result", async () => {
    const byRepo = await (await get("/jobs?repo=acme%2Fother")).text();
    assert.match(byRepo, /data-job="done-bad-2"/);
    assert.doesNotMatch(byRepo, /data-job="done-ok"/);
    const byResult = await (await get("/jobs?result=failure&pull=8")).text();
    assert.match(byResult, /data-job="done-bad"/);
    assert.doesNotMatch(byResult, /data-job="done-bad-2"/);
    const byContext = await (await get("/jobs?context=fedora%2Funit")).text();
    assert.match(
      byContext,
      /data-job="done-ok"[\s\S]*1m 5s[\s\S]*href="http:\/\/store.invalid\/done-ok\/log.html"/,
    );
    const nonsense = await get("/jobs?pull=abc&state=bogus");
    assert.equal(nonsense.status, 200);
  });

  test("flaky contexts come first", async () => {
    const page = await (await get("/flaky")).text();
    const order = [...page.matchAll(/data-context="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(order.at(-1), "fedora/unit", "the always-green context is last");
    assert.match(page, /100.0%/);
  });

  test("a job page tails the log and the live stream sends what it writes next", async () => {
    const page = await (await get("/jobs/running-1")).text();
    assert.match(page, /first line &lt;b&gt;bold\?&lt;\/b&gt;/);
    const controller = new AbortController();
    const response = await fetch(new URL("/live?path=%2Fjobs%2Frunning-1", dashboard.url), {
      signal: controller.signal,
    });
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let received = "";
    const decoder = new TextDecoder();
    try {
      log.write("second line from the job\n");
      await log.flush();
      await until("the new line in the stream", async () => {
        const { value } = await reader.read();
        received += decoder.decode(value);
        return received.includes("second line from the job") ? true : undefined;
      });
      const event = received
        .split("\n")
        .find((line) => line.startsWith("data: ") && line.includes("second line"));
      const update = JSON.parse((event ?? "").slice("data: ".length)) as { id: string; html: string };
      assert.equal(update.id, "tail");
    } finally {
      controller.abort();
    }
  });

  test("unknown pages and jobs answer 404", async () => {
    assert.equal((await get("/jobs/nope")).status, 404);
    assert.equal((await get("/nope")).status, 404);
  });

  test("actions without the admin token are refused, with a way to log in", async () => {
    const anonymous = await post("/actions/cancel", { job: "running-1" });
    assert.equal(anonymous.status, 401);
    assert.match(await anonymous.text(), /Actions need the admin token[\s\S]*href="\/login/);
    const wrong = await post("/actions/drain", { worker: "w1" }, { authorization: "Bearer not-the-token" });
    assert.equal(wrong.status, 403);
    const forgedCookie = await post("/actions/drain", { worker: "w1" }, { cookie: `hangar_admin=${ADMIN}` });
    assert.equal(forgedCookie.status, 401, "the token itself is not a session cookie");
    const badReferer = await post("/actions/drain", { worker: "w1" }, { referer: "http://[" });
    assert.equal(badReferer.status, 401, "a Referer that is not a URL is no reason to fail");
    assert.deepEqual(controlled, []);
  });

  test("an admin cancels, drains and retries", async () => {
    const bearer = { authorization: `Bearer ${ADMIN}` };
    assert.equal((await post("/actions/cancel", { job: "running-1" }, bearer)).status, 202);
    assert.equal((await post("/actions/cancel", { job: "done-ok" }, bearer)).status, 409);
    assert.equal((await post("/actions/drain", { worker: "w1" }, bearer)).status, 202);
    assert.deepEqual(controlled, ["cancel running-1", "drain w1"]);

    const badLogin = await post("/login", { token: "guess", next: "/" });
    assert.equal(badLogin.status, 403);
    const login = await post("/login", { token: ADMIN, next: "/jobs" });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get("location"), "/jobs");
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    assert.ok(!cookie.includes(ADMIN));
    const retried = await post(
      "/actions/retry",
      { repo: "acme/widget", pull: "1", context: "debian/unit" },
      { cookie },
    );
    assert.equal(retried.status, 202, await retried.text());
    const statuses = await emulator.statuses("acme/widget", pullSha);
    assert.deepEqual(
      statuses.map((s) => [s.context, s.state, s.description]),
      [["debian/unit", "pending", "Not yet tested (direct trigger)"]],
    );
    const away = await post("/login", { token: ADMIN, next: "//evil.example/" });
    assert.equal(away.headers.get("location"), "/");
  });

  test("a cross-site POST with the admin's cookie is refused with 403 and does nothing", async () => {
    const login = await post("/login", { token: ADMIN, next: "/" });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const own = new URL(dashboard.url);
    // Another port on the same host is the same site: SameSite=Strict still sends the cookie.
    const elsewhere = `http://${own.hostname}:${Number(own.port) === 1 ? 2 : 1}`;
    const before = controlled.length;
    const attempts: Record<string, string>[] = [
      { origin: elsewhere },
      { origin: "null" },
      { "sec-fetch-site": "same-site", origin: elsewhere },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const headers of attempts) {
      const refused = await post("/actions/drain", { worker: "w1" }, { cookie, ...headers });
      assert.equal(refused.status, 403, JSON.stringify(headers));
      assert.match(await refused.text(), /another (site|origin)|not a URL/);
    }
    const loginFromElsewhere = await post("/login", { token: ADMIN, next: "/" }, { origin: elsewhere });
    assert.equal(loginFromElsewhere.status, 403);
    assert.equal(loginFromElsewhere.headers.get("set-cookie"), null);
    assert.equal(controlled.length, before, "no action reached the workers");

    const sameOrigin = await post(
      "/actions/drain",
      { worker: "w1" },
      { cookie, origin: own.origin, "sec-fetch-site": "same-origin" },
    );
    assert.equal(sameOrigin.status, 202, "the dashboard's own form still works");
    assert.deepEqual(controlled.slice(before), ["drain w1"]);
  });

  test("after login, next only ever leads to a path on this dashboard", async () => {
    const own = new URL(dashboard.url).origin;
    const hostile = [
      "//evil.example/",
      "/\\evil.example",
      "\\\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/.//evil.example",
      "/..//evil.example",
      "http://evil.example/",
      "https:evil.example",
      "javascript:alert(1)",
      "evil.example",
    ];
    const locations: string[] = [];
    for (const next of hostile) {
      const login = await post("/login", { token: ADMIN, next });
      assert.equal(login.status, 303, next);
      locations.push(login.headers.get("location") ?? "");
    }
    // The form field as an attacker writes it into a link: %09 decodes to a tab.
    const raw = await fetch(new URL("/login", dashboard.url), {
      method: "POST",
      body: `token=${ADMIN}&next=/%09/evil.example`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      redirect: "manual",
    });
    locations.push(raw.headers.get("location") ?? "");
    for (const location of locations) {
      assert.equal(new URL(location, dashboard.url).origin, own, `${JSON.stringify(location)} leads away`);
      assert.ok(location.startsWith("/") && !location.startsWith("//"), location);
    }
    const kept = await post("/login", { token: ADMIN, next: "/jobs?repo=acme%2Fwidget#recent" });
    assert.equal(kept.headers.get("location"), "/jobs?repo=acme%2Fwidget#recent");

    const form = await (await get("/login?next=/%09/evil.example")).text();
    const field = /name="next" value="([^"]*)"/.exec(form)?.[1] ?? "";
    assert.equal(new URL(field, dashboard.url).origin, own);
  });
});
