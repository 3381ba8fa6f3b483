/**
 * Signed task entries: the signature, what a worker admits of signed,
 * unsigned and tampered entries, scan's signing queue, and the key file
 * processes on one machine share.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import { openQueue } from "../../src/queue/index.js";
import type { Job } from "../../src/queue/messages.js";
import {
  admitJob,
  canonicalJson,
  checkSignature,
  type EntryPolicy,
  jobSignature,
  signingQueue,
  signTaskBody,
} from "../../src/queue/signing.js";
import {
  loadSigningKey,
  MIN_SIGNING_KEY_LENGTH,
  readOrCreateKeyFile,
  SIGNING_KEY_FILE,
} from "../../src/queue/signing-key.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "hangar-signing-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const KEY = "0123456789abcdef-test-key";
const JOB: Job = {
  repo: "acme/widget",
  sha: "a".repeat(40),
  pull: 7,
  context: "unit",
  slug: "pull-7-unit",
  env: { MODE: "fast" },
  secrets: ["api-token"],
  report: { nested: { b: 1, a: [1, { y: 2, x: 1 }] } },
};
const signedBody = (job: Job = JOB) => String(signTaskBody(JSON.stringify({ job, human: "unit" }), KEY));
const policy = (unsigned: EntryPolicy["unsigned"] = { trusted: false, secrets: [] }): EntryPolicy => ({
  signingKey: KEY,
  unsigned,
});

describe("the signature", () => {
  test("canonical JSON sorts keys at every level and keeps array order", () => {
    assert.equal(canonicalJson({ b: [2, { d: 1, c: null }], a: "x" }), '{"a":"x","b":[2,{"c":null,"d":1}]}');
    assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  });

  test("sits beside the job, survives key order and a new attempt, and nothing else", () => {
    const entry = JSON.parse(signedBody()) as { job: Record<string, unknown>; signature: string };
    assert.match(entry.signature, /^sha256=[0-9a-f]{64}$/);
    assert.equal("signature" in entry.job, false, "bots see the job as it was");
    const reordered = JSON.stringify({
      signature: entry.signature,
      human: "changed text",
      job: Object.fromEntries(Object.entries(entry.job).reverse()),
    });
    assert.equal(checkSignature(reordered, KEY), "signed");
    const requeued = JSON.stringify({ ...entry, job: { ...entry.job, attempt: 3 } });
    assert.equal(checkSignature(requeued, KEY), "signed");
    for (const change of [
      { secrets: ["api-token", "deploy-key"] },
      { env: { MODE: "fast", GIT_CONFIG_COUNT: "1" } },
      { trusted: true },
      { network: true },
      { sha: "b".repeat(40) },
      { report: { nested: { b: 1, a: [1, { y: 2, x: 2 }] } } },
    ]) {
      const tampered = JSON.stringify({ ...entry, job: { ...entry.job, ...change } });
      assert.equal(checkSignature(tampered, KEY), "bad-signature", JSON.stringify(change));
    }
    assert.equal(checkSignature(signedBody(), "another-key-0123456789"), "bad-signature");
    assert.equal(checkSignature(JSON.stringify({ ...entry, signature: 5 }), KEY), "bad-signature");
    assert.equal(checkSignature(JSON.stringify({ job: JOB }), KEY), "unsigned");
    assert.equal(checkSignature(signedBody(), undefined), "unsigned", "without a key nothing is verified");
  });

  test("the HMAC is over the canonical job without its attempt", () => {
    const { attempt: _ignored, ...rest } = { ...JOB, attempt: 2 };
    assert.equal(jobSignature({ ...JOB, attempt: 2 }, KEY), jobSignature(rest, KEY));
    assert.notEqual(jobSignature(JOB, KEY), jobSignature(JOB, `${KEY}x`));
  });
});

describe("admission", () => {
  test("a signed entry is used as it is", () => {
    const admitted = admitJob(JOB, signedBody(), policy());
    assert.equal(admitted.trust, "signed");
    assert.deepEqual(admitted.job, JOB);
    assert.equal(admitted.notice, undefined);
  });

  test("an unsigned entry runs untrusted: no secrets, no network", () => {
    const admitted = admitJob(JOB, JSON.stringify({ job: JOB }), policy());
    assert.equal(admitted.trust, "unsigned");
    assert.equal(admitted.job.trusted, false);
    assert.equal(admitted.job.network, false);
    assert.deepEqual(admitted.job.secrets, []);
    assert.match(
      admitted.notice ?? "",
      /Unsigned queue entry: it runs as untrusted code, with no secrets and no network/,
    );
  });

  test("a tampered entry (secrets added) gets nothing", () => {
    const entry = JSON.parse(signedBody({ ...JOB, secrets: [] })) as Record<string, unknown>;
    const tampered = { ...JOB, secrets: ["api-token"] };
    const admitted = admitJob(tampered, JSON.stringify({ ...entry, job: tampered }), policy());
    assert.equal(admitted.trust, "bad-signature");
    assert.deepEqual(admitted.job.secrets, []);
    assert.equal(admitted.job.trusted, false);
    assert.equal(admitted.job.network, false);
    assert.match(admitted.notice ?? "", /bad signature/);
  });

  test("accepted unsigned entries keep their trust and get only the listed secrets", () => {
    const job = { ...JOB, secrets: ["image-download", "github-token"] };
    const admitted = admitJob(
      job,
      JSON.stringify({ job }),
      policy({ trusted: true, secrets: ["image-download"] }),
    );
    assert.deepEqual(admitted.job.secrets, ["image-download"]);
    assert.equal(admitted.job.trusted, undefined);
    assert.equal(admitted.job.network, undefined);
    assert.match(admitted.notice ?? "", /not in worker\.unsignedEntries\.secrets\): github-token/);
    const untrusted = { ...job, trusted: false };
    const kept = admitJob(
      untrusted,
      JSON.stringify({ job: untrusted }),
      policy({ trusted: true, secrets: [] }),
    );
    assert.equal(kept.job.trusted, false, "an entry that says untrusted stays untrusted");
  });
});

describe("scan's signing queue", () => {
  test("signs job entries on their way in and leaves other entries alone", async () => {
    const queue = await openQueue({
      driver: "sqlite",
      path: join(dir, "queue.sqlite"),
      layout: { webhook: "webhook", tasks: ["public"], statistics: "statistics" },
    });
    try {
      const signing = signingQueue(queue, KEY);
      await signing.publish("public", JSON.stringify({ job: JOB, human: "h" }), { priority: 7 });
      await signing.publish("public", JSON.stringify({ command: "shell" }));
      await signing.publish("public", "not json");
      const entries = (await queue.inspect("public", 10)).entries;
      assert.deepEqual(
        entries.map((e) => e.priority),
        [7, 5, 5],
      );
      assert.equal(checkSignature(entries[0]?.body ?? "", KEY), "signed");
      assert.deepEqual(JSON.parse(entries[1]?.body.toString() ?? ""), { command: "shell" });
      assert.equal(entries[2]?.body.toString(), "not json");
      assert.equal(signingQueue(queue, undefined), queue, "without a key scan publishes as it is");
    } finally {
      await queue.close();
    }
  });
});

describe("the signing key", () => {
  const config = (value: unknown, base: string) => parseConfig(value, "hangar.yaml", base);

  test("with SQLite and no key, a 0600 key file next to the database, the same for every process", async () => {
    const base = mkdtempSync(join(dir, "sqlite-"));
    const loaded = config({ queue: { sqlite: { path: "state/queue.sqlite" } } }, base);
    mkdirSync(join(base, "state"));
    const module = new URL("../../src/queue/signing-key.js", import.meta.url).href;
    const file = join(base, "state", SIGNING_KEY_FILE);
    const script = `import(${JSON.stringify(module)}).then((m) => process.stdout.write(m.readOrCreateKeyFile(${JSON.stringify(file)})))`;
    // Several processes starting at once agree on one key.
    const keys = await Promise.all(
      Array.from({ length: 4 }, async () => (await run(process.execPath, ["-e", script])).stdout),
    );
    assert.equal(new Set(keys).size, 1);
    const key = keys[0] ?? "";
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(base, "state")), [SIGNING_KEY_FILE], "no candidate files left");
    assert.deepEqual(loadSigningKey(loaded, {}), { key, source: "file", file });
    assert.equal(readOrCreateKeyFile(file), key);
    assert.equal(readFileSync(file, "utf8").trim(), key);
  });

  test("queue.signingKey wins; a short one is refused; AMQP without one has none", () => {
    const base = mkdtempSync(join(dir, "config-"));
    const key = "k".repeat(MIN_SIGNING_KEY_LENGTH);
    assert.deepEqual(loadSigningKey(config({ queue: { signingKey: { env: "KEY" } } }, base), { KEY: key }), {
      key,
      source: "config",
    });
    assert.deepEqual(readdirSync(base), [], "no key file is made when one is configured");
    assert.throws(
      () => loadSigningKey(config({ queue: { signingKey: "short" } }, base), {}),
      (error: unknown) => error instanceof ConfigError && /queue\.signingKey: too short/.test(error.message),
    );
    const amqp = config({ queue: { driver: "amqp", amqp: { url: "amqp://127.0.0.1" } } }, base);
    assert.deepEqual(loadSigningKey(amqp, {}), { source: "none" });
  });
});
