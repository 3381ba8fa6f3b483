import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, beforeEach, describe, test } from "node:test";
import { queueLayout } from "../../src/config/index.js";
import { openQueue } from "../../src/queue/index.js";
import {
  deliver,
  type Harness,
  MAX_BODY_BYTES,
  pullRequestPayload,
  SECRET,
  signature,
  startHarness,
} from "./harness.js";

describe("webhook server", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.queue.purge(h.config.queue.names.webhook);
  });

  test("a signed pull_request is queued with its payload byte for byte", async () => {
    const body = pullRequestPayload("opened");
    const r = await deliver(h.url, { event: "pull_request", delivery: "d-pr-1", body });
    assert.equal(r.status, 202);
    assert.equal(r.json.queued, true);
    const entries = await h.queued();
    assert.equal(entries.length, 1);
    const entry = entries[0] as Buffer;
    assert.ok(entry.includes(body), "the entry holds the payload's exact bytes");
    const envelope = JSON.parse(entry.toString("utf8")) as Record<string, unknown>;
    assert.equal(envelope.event, "pull_request");
    assert.equal(envelope.delivery, "d-pr-1");
    assert.deepEqual(envelope.request, JSON.parse(body.toString("utf8")));
    assert.deepEqual(Object.keys(envelope).sort(), ["delivery", "event", "received", "request"]);
    assert.ok(
      Math.abs(Date.parse(String(envelope.received)) - Date.now()) < 60_000,
      "received is when it arrived",
    );
  });

  test("an accepted delivery is committed before the answer: another connection sees it", async () => {
    const r = await deliver(h.url, {
      event: "pull_request",
      delivery: "d-durable",
      body: pullRequestPayload(),
    });
    assert.equal(r.status, 202);
    const other = await openQueue({
      driver: "sqlite",
      path: h.config.queue.sqlite.path,
      layout: queueLayout(h.config),
    });
    try {
      const info = await other.inspect(h.config.queue.names.webhook, 10);
      assert.equal(info.ready, 1);
      assert.ok(info.entries[0]?.body.includes(Buffer.from('"delivery":"d-durable"')));
    } finally {
      await other.close();
    }
  });

  test("the delivery is logged with its id, event, action, outcome and time", async () => {
    await deliver(h.url, {
      event: "pull_request",
      delivery: "d-log-1",
      body: pullRequestPayload("reopened"),
    });
    const line = h.logs().find((l) => l.delivery === "d-log-1");
    assert.ok(line, "a log line names the delivery");
    assert.equal(line.event, "pull_request");
    assert.equal(line.action, "reopened");
    assert.equal(line.outcome, "queued");
    assert.equal(typeof line.ms, "number");
  });

  test("ping answers 200 and queues nothing", async () => {
    const r = await deliver(h.url, {
      event: "ping",
      delivery: "d-ping",
      body: '{"zen":"Keep it logically awesome.","hook_id":1}',
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.queued, false);
    assert.equal((await h.queued()).length, 0);
  });

  test("an ignored action answers 200 with a reason and queues nothing", async () => {
    const r = await deliver(h.url, {
      event: "pull_request",
      delivery: "d-closed",
      body: pullRequestPayload("closed"),
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.queued, false);
    assert.match(String(r.json.reason), /closed/);
    assert.equal((await h.queued()).length, 0);
  });

  test("an event without a rule answers 200 and queues nothing", async () => {
    const r = await deliver(h.url, { event: "push", body: '{"ref":"refs/heads/main"}' });
    assert.equal(r.status, 200);
    assert.match(String(r.json.reason), /push/);
    assert.equal((await h.queued()).length, 0);
  });

  test("a wrong signature answers 401, queues nothing, and never logs a signature", async () => {
    const body = pullRequestPayload();
    const wrong = signature(body, "not the secret");
    const r = await deliver(h.url, { event: "pull_request", delivery: "d-bad-sig", body, signature: wrong });
    assert.equal(r.status, 401);
    assert.equal((await h.queued()).length, 0);
    const lines = h.logs().filter((l) => l.delivery === "d-bad-sig");
    assert.equal(lines[0]?.outcome, "unauthorized");
    const logged = JSON.stringify(h.logs());
    assert.ok(!logged.includes(wrong.slice(7)), "the received signature is not logged");
    assert.ok(!logged.includes(signature(body).slice(7)), "the computed signature is not logged");
    assert.ok(!logged.includes(SECRET), "the secret is not logged");
  });

  test("an unsigned delivery answers 401 and queues nothing", async () => {
    const r = await deliver(h.url, { event: "pull_request", body: pullRequestPayload(), signature: null });
    assert.equal(r.status, 401);
    assert.equal((await h.queued()).length, 0);
  });

  test("a signature over a different body answers 401", async () => {
    const r = await deliver(h.url, {
      event: "pull_request",
      body: pullRequestPayload("opened"),
      signature: signature(pullRequestPayload("synchronize")),
    });
    assert.equal(r.status, 401);
    assert.equal((await h.queued()).length, 0);
  });

  test("malformed JSON answers 400", async () => {
    const r = await deliver(h.url, { event: "pull_request", body: '{"action": "opened",' });
    assert.equal(r.status, 400);
    assert.equal((await h.queued()).length, 0);
  });

  test("a JSON value that is not an object answers 400", async () => {
    const r = await deliver(h.url, { event: "pull_request", body: '["opened"]' });
    assert.equal(r.status, 400);
    assert.equal((await h.queued()).length, 0);
  });

  test("a missing X-GitHub-Event answers 400", async () => {
    const r = await deliver(h.url, { body: pullRequestPayload() });
    assert.equal(r.status, 400);
    assert.match(String(r.json.error), /X-GitHub-Event/);
    assert.equal((await h.queued()).length, 0);
  });

  test("a form-encoded delivery is accepted and its payload field is queued", async () => {
    const payload = pullRequestPayload("synchronize");
    const body = new URLSearchParams({ payload: payload.toString("utf8") }).toString();
    const r = await deliver(h.url, {
      event: "pull_request",
      delivery: "d-form",
      body,
      contentType: "application/x-www-form-urlencoded",
    });
    assert.equal(r.status, 202);
    const entries = await h.queued();
    assert.equal(entries.length, 1);
    assert.ok((entries[0] as Buffer).includes(payload));
  });

  test("a form-encoded delivery without a payload field answers 400", async () => {
    const r = await deliver(h.url, {
      event: "pull_request",
      body: "other=1",
      contentType: "application/x-www-form-urlencoded",
    });
    assert.equal(r.status, 400);
    assert.equal((await h.queued()).length, 0);
  });

  test("a pending direct-trigger status is queued, other statuses are not", async () => {
    const direct = JSON.stringify({
      state: "pending",
      description: "Not yet tested (direct trigger)",
      context: "fedora",
    });
    assert.equal((await deliver(h.url, { event: "status", body: direct })).status, 202);
    const plain = JSON.stringify({ state: "pending", description: "Not yet tested", context: "fedora" });
    assert.equal((await deliver(h.url, { event: "status", body: plain })).status, 200);
    const success = JSON.stringify({
      state: "success",
      description: "Success (direct trigger)",
      context: "fedora",
    });
    assert.equal((await deliver(h.url, { event: "status", body: success })).status, 200);
    const entries = await h.queued();
    assert.equal(entries.length, 1);
    assert.ok((entries[0] as Buffer).includes(Buffer.from(direct)));
  });

  test("a comment on a pull request and a check_run rerequest are queued; a comment on an issue is not", async () => {
    const onPull = JSON.stringify({
      action: "created",
      issue: { number: 7, pull_request: { url: "x" } },
      comment: { body: "retest" },
    });
    const onIssue = JSON.stringify({ action: "created", issue: { number: 8 }, comment: { body: "retest" } });
    const rerun = JSON.stringify({ action: "rerequested", check_run: { id: 1 } });
    assert.equal((await deliver(h.url, { event: "issue_comment", body: onPull })).status, 202);
    assert.equal((await deliver(h.url, { event: "issue_comment", body: onIssue })).status, 200);
    assert.equal((await deliver(h.url, { event: "check_run", body: rerun })).status, 202);
    assert.equal((await h.queued()).length, 2);
  });

  test("a delivery without X-GitHub-Delivery is queued without a delivery key", async () => {
    const r = await deliver(h.url, { event: "pull_request", body: pullRequestPayload() });
    assert.equal(r.status, 202);
    const envelope = JSON.parse(((await h.queued())[0] as Buffer).toString("utf8")) as Record<
      string,
      unknown
    >;
    assert.equal("delivery" in envelope, false);
  });

  test("a body declared larger than webhook.maxBodyBytes answers 413", async () => {
    const body = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    const r = await deliver(h.url, { event: "pull_request", body });
    assert.equal(r.status, 413);
    assert.equal((await h.queued()).length, 0);
  });

  test("an oversize chunked body gets 413 while the client is still sending", {
    timeout: 10_000,
  }, async () => {
    // The client never ends its body: only a server that stops at the limit can answer.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(new URL(h.url), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "pull_request",
          "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
        },
      });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      let answered = false;
      const pump = (): void => {
        while (!answered && req.write(chunk)) {
          // keep writing until the socket pushes back
        }
        if (!answered) req.once("drain", pump);
      };
      req.on("response", (res) => {
        answered = true;
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", (error) => {
        if (!answered) reject(error);
      });
      req.flushHeaders();
      pump();
    });
    assert.equal(status, 413);
    assert.equal((await h.queued()).length, 0);
  });

  test("GET /healthz answers 200", async () => {
    const r = await deliver(h.url, { method: "GET", path: "/healthz", body: "" });
    assert.equal(r.status, 200);
  });

  test("GET / answers 405", async () => {
    const r = await deliver(h.url, { method: "GET", body: "" });
    assert.equal(r.status, 405);
  });

  test("another path answers 404", async () => {
    const r = await deliver(h.url, { event: "pull_request", path: "/hooks", body: pullRequestPayload() });
    assert.equal(r.status, 404);
    assert.equal((await h.queued()).length, 0);
  });
});

describe("webhook server with a failing queue", () => {
  test("a publish failure answers 503 and logs it", async () => {
    const h = await startHarness();
    try {
      await h.queue.close();
      const r = await deliver(h.url, {
        event: "pull_request",
        delivery: "d-503",
        body: pullRequestPayload(),
      });
      assert.equal(r.status, 503);
      const line = h.logs().find((l) => l.delivery === "d-503");
      assert.equal(line?.outcome, "unavailable");
      assert.equal(line?.level, 50);
    } finally {
      await h.close();
    }
  });
});
