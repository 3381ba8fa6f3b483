/**
 * The secret masker on its own: every encoded form and alignment of a secret
 * is replaced, in whole texts and in streams split at every byte position.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, test } from "node:test";
import { MaskingTransform, MIN_VARIANT_LENGTH, SecretMasker, secretForms } from "../../src/store/mask.js";

const SECRET = 'Tok3n/+?&=é"\\\n~!';

/** The stream masked piece by piece, cut at the given byte offsets. */
function streamed(values: readonly string[], data: Buffer, cuts: readonly number[]): Buffer {
  const masker = new SecretMasker(values);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    out.push(masker.push(data.subarray(from, cut)));
    from = cut;
  }
  out.push(masker.end());
  return Buffer.concat(out);
}

/** Each encoded form of SECRET, embedded the way a tool would print it. */
function encodings(secret: string): Record<string, string> {
  const bytes = Buffer.from(secret);
  const encoded: Record<string, string> = {
    raw: secret,
    "url (encodeURIComponent)": encodeURIComponent(secret),
    "url lower-case hex": encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    "url (form)": new URLSearchParams({ q: secret }).toString().slice(2),
    json: JSON.stringify(secret).slice(1, -1),
    "json ascii (python)": JSON.stringify(secret)
      .slice(1, -1)
      .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
  };
  for (const prefix of ["", "a", "ab"]) {
    const blob = Buffer.concat([Buffer.from(prefix), bytes, Buffer.from("tail")]);
    encoded[`base64 after ${prefix.length} byte(s)`] = blob.toString("base64");
    encoded[`base64url after ${prefix.length} byte(s)`] = blob.toString("base64url");
  }
  return encoded;
}

describe("secret forms", () => {
  test("no encoded form of the secret survives masking, in any alignment", () => {
    const masker = new SecretMasker([SECRET]);
    for (const [name, form] of Object.entries(encodings(SECRET))) {
      const text = `before ${form} after`;
      const masked = masker.maskString(text);
      assert.match(masked, /\*\*\*/, name);
      assert.ok(masked.startsWith("before "), `${name}: text before the secret stays`);
      assert.ok(masked.endsWith(" after"), `${name}: text after the secret stays`);
      // What is left of a base64 blob is only what depends on the prefix or the tail too.
      const left = masked.slice("before ".length, -" after".length).replace("***", "");
      assert.ok(left.length <= 10, `${name}: at most the mixed characters around it are left (${left})`);
    }
  });

  test("every base64 character that depends only on the secret is masked", () => {
    const secret = "0123456789abcdef";
    const masker = new SecretMasker([secret]);
    for (const prefix of [0, 1, 2]) {
      const blob = Buffer.concat([Buffer.alloc(prefix, 0xff), Buffer.from(secret), Buffer.alloc(3, 0xff)]);
      const encoded = blob.toString("base64");
      const masked = masker.maskString(encoded);
      const kept = masked.split("***");
      assert.equal(kept.length, 2, `prefix ${prefix}: one masked run`);
      assert.ok((kept[0] ?? "").length <= Math.ceil((8 * prefix) / 6), `prefix ${prefix}: ${masked}`);
    }
  });

  test("tiny secrets mask only themselves, not their short encodings", () => {
    const forms = secretForms("ab");
    assert.deepEqual(forms, ["ab"]);
    for (const form of secretForms(SECRET).slice(1)) assert.ok(form.length >= MIN_VARIANT_LENGTH, form);
    assert.equal(new SecretMasker(["ab"]).maskString("YWI= and ab"), "YWI= and ***");
  });

  test("an empty secret masks nothing", () => {
    assert.equal(new SecretMasker(["", ""]).maskString("text"), "text");
    assert.deepEqual(secretForms(""), []);
  });
});

describe("streams split anywhere", () => {
  const forms = Object.values(encodings(SECRET));
  const data = Buffer.from(forms.map((form, index) => `line ${index}: ${form}\n`).join(""));
  const whole = new SecretMasker([SECRET]).maskBytes(data);

  test("the whole text is masked everywhere", () => {
    for (const [index] of forms.entries()) {
      assert.match(whole.toString(), new RegExp(`line ${index}: [^\\n]*\\*\\*\\*`));
    }
    assert.equal(whole.includes(Buffer.from(SECRET)), false);
  });

  test("one cut at every byte position gives the same output as the whole", () => {
    for (let cut = 0; cut <= data.length; cut++) {
      assert.deepEqual(streamed([SECRET], data, [cut]).toString(), whole.toString(), `cut at ${cut}`);
    }
  });

  test("byte-by-byte writes give the same output as the whole", () => {
    const cuts = Array.from({ length: data.length }, (_, index) => index);
    assert.equal(streamed([SECRET], data, cuts).toString(), whole.toString());
  });

  test("two cuts around every form's start and end give the same output", () => {
    const sample = Buffer.from(`x ${SECRET} y ${Buffer.from(`a${SECRET}`).toString("base64")} z`);
    const expected = new SecretMasker([SECRET]).maskBytes(sample).toString();
    for (let first = 0; first <= sample.length; first++) {
      for (let second = first; second <= sample.length; second += 3) {
        assert.equal(streamed([SECRET], sample, [first, second]).toString(), expected, `${first}/${second}`);
      }
    }
  });

  test("a form that begins a longer one waits until the longer one is decided", () => {
    // "abcdef" is a secret, and so is its beginning "abcd": the longer wins wherever the stream is cut.
    const data = Buffer.from("1 abcdef 2 abcdxy 3 abcd");
    for (let cut = 0; cut <= data.length; cut++) {
      assert.equal(streamed(["abcd", "abcdef"], data, [cut]).toString(), "1 *** 2 ***xy 3 ***", `cut ${cut}`);
    }
  });

  test("a held tail that never completes is written as it was", () => {
    const masker = new SecretMasker([SECRET]);
    const start = Buffer.from(`done ${SECRET.slice(0, 5)}`);
    assert.equal(masker.push(start).toString(), "done ");
    assert.equal(masker.end().toString(), SECRET.slice(0, 5));
  });

  test("the masking stream masks attachments split into chunks", async () => {
    const chunks = [...data].map((byte) => Buffer.from([byte]));
    const masked = await buffer(Readable.from(chunks).pipe(new MaskingTransform([SECRET])));
    assert.equal(masked.toString(), whole.toString());
  });
});
