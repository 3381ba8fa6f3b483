/**
 * Hostile traffic against the webhook: bodies refused on their headers
 * before they are read, the budget of bytes in flight, slow headers and slow
 * bodies, and metric labels that junk headers cannot multiply.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { metricsText } from "../../src/metrics/index.js";
import { deliver, pullRequestPayload, startHarness } from "./harness.js";

const MiB = 1024 * 1024;
/** Well-formed, so the server has to read the body to find it wrong. */
const WRONG_SIGNATURE = `sha256=${"0".repeat(64)}`;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Streamed {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Body bytes the client had handed to its socket when the answer came. */
  readonly sentWhenAnswered: number;
}

/**
 * POSTs `total` bytes in 64 KiB chunks as fast as the connection takes them,
 * and notes how much was sent when the answer arrived.
 */
function streamBody(url: string, headers: Record<string, string>, total: number): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const req = request(new URL(url), {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(total), ...headers },
    });
    req.on("response", (res) => {
      const sentWhenAnswered = sent;
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, sentWhenAnswered });
      req.destroy();
    });
    // The server drops the connection after answering: the writes that follow fail.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (!["EPIPE", "ECONNRESET"].includes(error.code ?? "")) reject(error);
    });
    const pump = (): void => {
      while (sent < total && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (sent >= total) req.end();
    };
    pump();
  });
}

/** A request whose headers and first body bytes are sent, and the rest held back until `finish`. */
function holdBody(url: string, declared: number): { finish(): void; status: Promise<number> } {
  const req = request(new URL(url), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "content-length": String(declared),
      "x-github-event": "pull_request",
      "x-hub-signature-256": WRONG_SIGNATURE,
    },
  });
  const status = new Promise<number>((resolve) => {
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
  });
  req.write(Buffer.alloc(1024, 0x20));
  return { finish: () => req.end(Buffer.alloc(declared - 1024, 0x20)), status };
}

async function webhookSeries(): Promise<string[]> {
  const { body } = await metricsText();
  return body.split("\n").filter((line) => line.startsWith("hangar_webhook_"));
}

describe("webhook limits", () => {
  test("an unsigned 25 MiB body is refused before the client finished sending it", async () => {
    const h = await startHarness({ webhook: { maxBodyBytes: 25 * MiB, maxBytesInFlight: 64 * MiB } });
    try {
      const total = 25 * MiB;
      const answered = await streamBody(h.url, { "x-github-event": "pull_request" }, total);
      assert.equal(answered.status, 401);
      assert.ok(
        answered.sentWhenAnswered < total,
        `answered after ${answered.sentWhenAnswered} of ${total} bytes: the body was not waited for`,
      );
      const line = h.logs().find((l) => l.outcome === "unauthorized");
      assert.equal(line?.reason, "missing X-Hub-Signature-256");
      assert.equal((await h.queued()).length, 0);
    } finally {
      await h.close();
    }
  });

  test("beyond the budget of bytes in flight: 503 with Retry-After, and room again once it is freed", async () => {
    const h = await startHarness({ webhook: { maxBodyBytes: 64 * 1024, maxBytesInFlight: 100 * 1024 } });
    try {
      const holder = holdBody(h.url, 60 * 1024);
      const refused = await until("a request over the budget to be refused", async () => {
        const r = await streamBody(
          h.url,
          { "x-github-event": "pull_request", "x-hub-signature-256": WRONG_SIGNATURE },
          50 * 1024,
        );
        return r.status === 503 ? r : undefined;
      });
      assert.ok(Number(refused.headers["retry-after"]) > 0, "Retry-After names a wait");
      assert.ok(h.logs().some((l) => l.outcome === "over_budget" && l.status === 503));

      holder.finish();
      assert.equal(await holder.status, 401, "the held request completes (and fails its signature)");
      const body = pullRequestPayload();
      const accepted = await deliver(h.url, { event: "pull_request", delivery: "after-budget", body });
      assert.equal(accepted.status, 202, "the budget was given back");
    } finally {
      await h.close();
    }
  });

  test("a connection that trickles its headers is dropped after the header timeout", async () => {
    const h = await startHarness({ webhook: { headersTimeoutMs: 300 } });
    try {
      const url = new URL(h.url);
      const socket = connect(Number(url.port), url.hostname);
      const started = performance.now();
      socket.write("POST / HTTP/1.1\r\nHost: x\r\n");
      const drip = setInterval(() => socket.writable && socket.write("X-Slow: a\r\n"), 50);
      const received: Buffer[] = [];
      socket.on("data", (data: Buffer) => received.push(data));
      socket.on("error", () => undefined);
      await new Promise((resolve) => socket.once("close", resolve));
      clearInterval(drip);
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 250, `closed after ${elapsed} ms, before the timeout`);
      assert.ok(elapsed < 5000, `closed only after ${elapsed} ms`);
      assert.match(Buffer.concat(received).toString("latin1"), /^HTTP\/1\.1 408/);
    } finally {
      await h.close();
    }
  });

  test("a body that trickles below the minimum rate is answered 408 and dropped", async () => {
    const h = await startHarness({ webhook: { bodyTimeoutMs: 1000, minBytesPerSecond: 1000 } });
    try {
      const url = new URL(h.url);
      const socket = connect(Number(url.port), url.hostname);
      socket.write(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: pull_request\r\n" +
          `X-Hub-Signature-256: ${WRONG_SIGNATURE}\r\nContent-Length: 10000\r\n\r\n`,
      );
      // 100 bytes per second: a tenth of the minimum.
      const drip = setInterval(() => socket.writable && socket.write(" ".repeat(10)), 100);
      const received: Buffer[] = [];
      socket.on("data", (data: Buffer) => received.push(data));
      socket.on("error", () => undefined);
      await new Promise((resolve) => socket.once("close", resolve));
      clearInterval(drip);
      assert.match(Buffer.concat(received).toString("latin1"), /^HTTP\/1\.1 408/);
      assert.ok(h.logs().some((l) => l.outcome === "too_slow"));
    } finally {
      await h.close();
    }
  });

  test("junk X-GitHub-Event headers on unsigned requests add no series; unknown signed events count as other", async () => {
    const h = await startHarness();
    try {
      const before = await webhookSeries();
      for (let i = 0; i < 50; i++) {
        const junk = `junk-${i}-${"x".repeat(8000)}`;
        const r = await deliver(h.url, { event: junk, body: "{}", signature: null });
        assert.equal(r.status, 401);
      }
      const junkWrongSignature = await deliver(h.url, {
        event: "junk-signed-wrong",
        body: "{}",
        signature: WRONG_SIGNATURE,
      });
      assert.equal(junkWrongSignature.status, 401);
      const after = await webhookSeries();
      assert.equal(after.length, before.length, "no new series");
      assert.ok(!after.some((line) => line.includes("junk")), "no junk value in any label");

      const unknown = await deliver(h.url, { event: "made_up_event", body: '{"action":"x"}' });
      assert.equal(unknown.status, 200);
      const counted = (await webhookSeries()).find((line) =>
        line.startsWith('hangar_webhook_deliveries_total{event="other",outcome="ignored"}'),
      );
      assert.ok(counted, "the unknown signed event is counted as other");
      assert.ok(!(await webhookSeries()).some((line) => line.includes("made_up_event")));
    } finally {
      await h.close();
    }
  });
});
