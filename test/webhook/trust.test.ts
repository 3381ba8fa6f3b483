import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { expectedSignature, signatureValid } from "../../src/webhook/index.js";
import { deliver, pullRequestPayload, SECRET, signature, startHarness } from "./harness.js";

function flip(text: string, at: number): string {
  const char = text[at] === "0" ? "1" : "0";
  return text.slice(0, at) + char + text.slice(at + 1);
}

describe("webhook signatures", () => {
  const body = pullRequestPayload();
  const good = expectedSignature(SECRET, body);

  test("a correct signature passes; one wrong at the first or the last digit fails", () => {
    assert.equal(good, signature(body));
    assert.equal(signatureValid(SECRET, body, good), true);
    const firstDigit = "sha256=".length;
    assert.equal(signatureValid(SECRET, body, flip(good, firstDigit)), false);
    assert.equal(signatureValid(SECRET, body, flip(good, good.length - 1)), false);
    assert.equal(signatureValid(SECRET, body, good.slice(0, -1)), false, "shorter");
    assert.equal(signatureValid(SECRET, body, `${good}0`), false, "longer");
    assert.equal(signatureValid(SECRET, body, undefined), false);
    assert.equal(signatureValid(SECRET, body, good.toUpperCase()), false);
  });

  test("the comparison is constant-time: timingSafeEqual, no string comparison of signatures", () => {
    const source = readFileSync(
      fileURLToPath(new URL("../../src/webhook/signature.js", import.meta.url)),
      "utf8",
    );
    assert.match(source, /timingSafeEqual\(/);
    assert.doesNotMatch(source, /(given|expected|signature)\s*===?\s*(given|expected|signature)/);
    assert.doesNotMatch(source, /\.equals\(|startsWith\(|localeCompare\(/);
  });

  test("the signature is over the raw bytes, so invalid UTF-8 cannot slip through", () => {
    const raw = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const other = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xfe, 0xff, 0x22, 0x7d]);
    assert.equal(raw.toString("utf8"), other.toString("utf8"), "both decode to the same text");
    assert.equal(signatureValid(SECRET, other, expectedSignature(SECRET, raw)), false);
  });
});

describe("webhook: unsigned deliveries", () => {
  test("refused by default", async () => {
    const h = await startHarness();
    try {
      const r = await deliver(h.url, {
        event: "pull_request",
        delivery: "u-1",
        body: pullRequestPayload(),
        signature: null,
      });
      assert.equal(r.status, 401);
      assert.equal((await h.queued()).length, 0);
    } finally {
      await h.close();
    }
  });

  test("accepted only with the insecure flag, which warns at start and on every unsigned delivery", async () => {
    const h = await startHarness({ insecure: true });
    try {
      const start = h.logs().find((l) => String(l.msg).startsWith("INSECURE MODE"));
      assert.equal(start?.level, 40, "a warning at start");
      for (const id of ["u-2", "u-3"]) {
        const r = await deliver(h.url, {
          event: "pull_request",
          delivery: id,
          body: pullRequestPayload(),
          signature: null,
        });
        assert.equal(r.status, 202);
      }
      assert.equal((await h.queued()).length, 2);
      const warnings = h.logs().filter((l) => l.level === 40 && String(l.msg).startsWith("INSECURE:"));
      assert.deepEqual(
        warnings.map((l) => l.delivery),
        ["u-2", "u-3"],
      );
      const wrong = await deliver(h.url, {
        event: "pull_request",
        delivery: "u-4",
        body: pullRequestPayload(),
        signature: signature("other body"),
      });
      assert.equal(wrong.status, 401, "a wrong signature is still refused when a secret is set");
    } finally {
      await h.close();
    }
  });

  test("insecure without any secret accepts deliveries, signed or not", async () => {
    const h = await startHarness({ insecure: true, noSecret: true });
    try {
      const r = await deliver(h.url, { event: "pull_request", body: pullRequestPayload(), signature: null });
      assert.equal(r.status, 202);
    } finally {
      await h.close();
    }
  });
});
