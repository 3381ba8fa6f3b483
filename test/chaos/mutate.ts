/** Hostile webhook traffic: a real payload mutated at random, signed or not, with bent headers. */
import { createHmac, randomUUID } from "node:crypto";
import { samplePullRequestEvent } from "../../src/emulator/index.js";

/** A small deterministic generator, so a failing run can be repeated with its seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

export interface MutatedRequest {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

const EVENTS = [
  "pull_request",
  "status",
  "issue_comment",
  "check_run",
  "ping",
  "push",
  "",
  "x".repeat(300),
  "pull_request\t",
];

function mutateBody(base: Buffer, next: () => number): Buffer {
  const pick = Math.floor(next() * 7);
  const body = Buffer.from(base);
  switch (pick) {
    case 0: // flip bits
      for (let i = 0; i < 1 + next() * 20; i++) {
        const at = Math.floor(next() * body.length);
        body[at] = (body[at] ?? 0) ^ (1 << Math.floor(next() * 8));
      }
      return body;
    case 1: // truncate
      return body.subarray(0, Math.floor(next() * body.length));
    case 2: // random bytes, including invalid UTF-8
      return Buffer.from(Array.from({ length: Math.floor(next() * 4096) }, () => Math.floor(next() * 256)));
    case 3: // deep nesting
      return Buffer.from(`${"[".repeat(5000 + Math.floor(next() * 50_000))}`);
    case 4: // other JSON values
      return Buffer.from(JSON.stringify([null, 1, "x", true, {}, []][Math.floor(next() * 6)]));
    case 5: // fields of the wrong type
      return Buffer.from(
        base
          .toString()
          .replace(/"number":\d+/, '"number":"seven"')
          .replace(/"sha":"[0-9a-f]+"/, '"sha":{}'),
      );
    default: // the payload unchanged (but maybe badly signed or with odd headers)
      return body;
  }
}

/** One request; about half are validly signed so they reach the payload checks behind the signature. */
export function mutatedRequest(base: Buffer, secret: string, next: () => number): MutatedRequest {
  const body = mutateBody(base, next);
  const headers: Record<string, string> = {
    "content-type":
      next() < 0.9
        ? "application/json"
        : (["text/plain", "application/x-www-form-urlencoded", "x/y"][Math.floor(next() * 3)] ?? "x/y"),
    "x-github-delivery": next() < 0.95 ? randomUUID() : "d".repeat(Math.floor(next() * 300)),
    "user-agent": "GitHub-Hookshot/chaos",
  };
  if (next() < 0.95) headers["x-github-event"] = EVENTS[Math.floor(next() * EVENTS.length)] ?? "push";
  const signing = next();
  if (signing < 0.5)
    headers["x-hub-signature-256"] = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  else if (signing < 0.8)
    headers["x-hub-signature-256"] = `sha256=${createHmac("sha256", "wrong").update(body).digest("hex")}`;
  else if (signing < 0.9)
    headers["x-hub-signature-256"] =
      ["sha1=abc", "sha256=", "garbage", "sha256=zz"][Math.floor(next() * 4)] ?? "";
  return { body, headers };
}

/** A pull_request payload of a repository outside the test map, so signed mutants that parse run nothing. */
export function basePayload(): Buffer {
  return Buffer.from(JSON.stringify(samplePullRequestEvent({ repo: "chaos/elsewhere", author: "someone" })));
}
