/**
 * Mutated and random input: the webhook answers 2xx or 4xx to all of it (never
 * 5xx, never a crash) and still takes a good delivery afterwards.
 */
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { deliver, pullRequestPayload, signature, startHarness } from "./harness.js";

/** A small deterministic PRNG (mulberry32), so a failure can be replayed by its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Mutant {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const EVENTS = ["pull_request", "status", "issue_comment", "check_run", "ping", "push", "", "x".repeat(300)];
const TYPES = [
  "application/json",
  "application/x-www-form-urlencoded",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/json; charset=latin1",
  "",
];

function mutateBody(base: Buffer, next: () => number): Buffer {
  const pick = Math.floor(next() * 9);
  const body = Buffer.from(base);
  switch (pick) {
    case 0: {
      const flips = 1 + Math.floor(next() * 8);
      for (let i = 0; i < flips; i++) {
        const at = Math.floor(next() * body.length);
        body[at] = (body[at] as number) ^ (1 << Math.floor(next() * 8));
      }
      return body;
    }
    case 1:
      return body.subarray(0, Math.floor(next() * body.length));
    case 2: {
      const at = Math.floor(next() * body.length);
      return Buffer.concat([
        body.subarray(0, at),
        Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]),
        body.subarray(at),
      ]);
    }
    case 3: {
      const depth = [10, 1000, 100_000][Math.floor(next() * 3)] as number;
      return Buffer.from(`{"action":"opened","deep":${"[".repeat(depth)}${"]".repeat(depth)}}`);
    }
    case 4:
      return Buffer.from(Array.from({ length: Math.floor(next() * 2048) }, () => Math.floor(next() * 256)));
    case 5:
      return Buffer.from(
        ["null", "[]", '"text"', "1e999", "{}", "", '{"action":{}}', '{"__proto__":{"x":1}}'][
          Math.floor(next() * 8)
        ] as string,
      );
    case 6:
      return Buffer.from(`payload=${encodeURIComponent(body.toString("utf8"))}&payload=%zz`);
    case 7:
      return Buffer.from(body.toString("utf8").replace(/"opened"/, `"${"\u202e".repeat(50)}"`));
    default:
      return body;
  }
}

function makeMutant(base: Buffer, next: () => number): Mutant {
  const body = mutateBody(base, next);
  const headers: Record<string, string> = {};
  const type = TYPES[Math.floor(next() * TYPES.length)] as string;
  if (type !== "") headers["content-type"] = type;
  const event = EVENTS[Math.floor(next() * EVENTS.length)] as string;
  if (event !== "") headers["x-github-event"] = event;
  if (next() < 0.8)
    headers["x-github-delivery"] =
      next() < 0.9 ? `fz-${Math.floor(next() * 1e9)}` : "d".repeat(Math.floor(next() * 5000));
  const sig = next();
  // Half carry a valid signature, so parsing and filtering get exercised too, not just the 401.
  if (sig < 0.5) headers["x-hub-signature-256"] = signature(body);
  else if (sig < 0.7) headers["x-hub-signature-256"] = signature(base);
  else if (sig < 0.8) headers["x-hub-signature-256"] = `sha256=${"z".repeat(Math.floor(next() * 200))}`;
  if (next() < 0.05) headers["x-huge"] = "h".repeat(20_000 + Math.floor(next() * 50_000));
  if (next() < 0.05) headers["content-encoding"] = "gzip";
  const method =
    next() < 0.9
      ? "POST"
      : (["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"][Math.floor(next() * 6)] as string);
  const path =
    next() < 0.9
      ? "/"
      : (["/healthz", "/%zz", "/../../etc/passwd", "/?a=%", "//", `/${"p".repeat(3000)}`][
          Math.floor(next() * 6)
        ] as string);
  return { method, path, headers, body };
}

function send(url: URL, agent: Agent, mutant: Mutant): Promise<number | "reset"> {
  const withBody = mutant.method !== "GET" && mutant.method !== "HEAD";
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: mutant.method,
        path: mutant.path,
        headers: withBody
          ? { ...mutant.headers, "content-length": String(mutant.body.length) }
          : mutant.headers,
        agent,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", () => resolve(res.statusCode ?? 0));
      },
    );
    // A server that closes on a 413 or 431 may reset the connection while the body is still going out.
    req.on("error", () => resolve("reset"));
    req.end(withBody ? mutant.body : undefined);
  });
}

/** Raw bytes on a socket, for what an HTTP client would refuse to send; the status of the answer, if any. */
function sendRaw(port: number, bytes: Buffer): Promise<number | "closed"> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
    });
    const done = () => {
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
      resolve(match ? Number(match[1]) : "closed");
    };
    socket.on("close", done);
    socket.on("error", () => undefined);
    // An incomplete request waits for the server's request timeout; no need to wait that long here.
    socket.setTimeout(1000, () => socket.destroy());
    socket.end(bytes);
  });
}

function rawMutant(base: Buffer, next: () => number): Buffer {
  const variants = [
    () =>
      Buffer.concat([
        Buffer.from(
          "POST / HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pull\xff\x80request\r\nContent-Length: 2\r\n\r\n{}",
          "latin1",
        ),
      ]),
    () => Buffer.from(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${Math.floor(next() * 1e12)}\r\n\r\n{}`),
    () => Buffer.from("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
    () =>
      Buffer.from("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    () => Buffer.from(Array.from({ length: 1 + Math.floor(next() * 512) }, () => Math.floor(next() * 256))),
    () =>
      Buffer.concat([
        Buffer.from(
          "POST / HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pull_request\r\nContent-Length: 100\r\n\r\n",
        ),
        base.subarray(0, 40),
      ]),
    () => Buffer.from("GARBAGE\r\n\r\n"),
    () => Buffer.from(`POST / HTTP/1.1\r\n${"X-A: b\r\n".repeat(3000)}\r\n`),
  ];
  return (variants[Math.floor(next() * variants.length)] as () => Buffer)();
}

describe("webhook under mutated and random input", () => {
  test("thousands of mutants: only 2xx and 4xx, and the webhook still answers", {
    timeout: 300_000,
  }, async () => {
    const h = await startHarness({ spool: true });
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const url = new URL(h.url);
      const base = pullRequestPayload("opened");
      const seed = Number(process.env.HANGAR_FUZZ_SEED ?? 20240607);
      const next = random(seed);
      const count = Number(process.env.HANGAR_FUZZ_COUNT ?? 3000);
      const statuses = new Map<string, number>();
      const bad: string[] = [];
      const note = (what: number | string, i: number) => {
        statuses.set(String(what), (statuses.get(String(what)) ?? 0) + 1);
        if (typeof what === "number" && (what >= 500 || what < 200)) bad.push(`#${i}: ${what}`);
      };
      const workers = Array.from({ length: 8 }, async (_, worker) => {
        for (let i = worker; i < count; i += 8) {
          if (i % 10 === 9) note(await sendRaw(Number(url.port), rawMutant(base, next)), i);
          else note(await send(url, agent, makeMutant(base, next)), i);
        }
      });
      await Promise.all(workers);
      assert.deepEqual(
        bad,
        [],
        `seed ${seed}: answers outside 2xx/4xx; all answers: ${JSON.stringify([...statuses])}`,
      );
      assert.ok((statuses.get("202") ?? 0) > 0, "some mutants were valid deliveries and queued");
      assert.ok((statuses.get("401") ?? 0) > 0);
      assert.ok((statuses.get("400") ?? 0) > 0);

      const after = await deliver(h.url, { event: "pull_request", delivery: "after-fuzz", body: base });
      assert.equal(after.status, 202);
      const health = await fetch(new URL("/healthz", h.url));
      assert.equal(health.status, 200);
      assert.equal(h.logs().filter((l) => l.outcome === "internal_error").length, 0);
    } finally {
      agent.destroy();
      await h.close();
    }
  });
});
