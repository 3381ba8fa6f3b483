/**
 * A worker on a real SQLite queue and fs store, running real jobs: an
 * unsigned entry naming a secret gets none, a signed entry whose secrets were
 * changed gets none, a properly signed one gets its secret (masked in the log).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseConfig } from "../../src/config/index.js";
import type { CommitStatus } from "../../src/forge/types.js";
import { openQueue } from "../../src/queue/index.js";
import type { Job } from "../../src/queue/messages.js";
import { signTaskBody } from "../../src/queue/signing.js";
import type { QueueBackend } from "../../src/queue/types.js";
import { createExecutor } from "../../src/runner/executors.js";
import { type RunningWorker, startWorker } from "../../src/runner/worker.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/types.js";
import { silentLogger } from "../../src/util/logger.js";
import { makeRepository, recordingForge, waitFor } from "./job-fixtures.js";

const KEY = "admission-test-signing-key";
const SECRET = "adm1ss10n-s3cr3t-value";
const RUN = `#!/bin/sh
echo "secrets=[$(ls "\${HANGAR_SECRETS_DIR:-/nonexistent}" 2>/dev/null | tr '\\n' ' ')]"
if [ -n "\${HANGAR_SECRETS_DIR:-}" ]; then echo "value: $(cat "$HANGAR_SECRETS_DIR/api-token")"; fi
`;

describe("a worker admits task entries by their signature", () => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-admission-"));
  const posted: CommitStatus[] = [];
  let queue: QueueBackend;
  let store: Store;
  let worker: RunningWorker;
  let sha: string;

  before(async () => {
    const cloneBase = join(dir, "repos");
    mkdirSync(join(dir, "work"));
    sha = makeRepository(cloneBase, "acme/demo", { ".hangar/run": RUN });
    queue = await openQueue({
      driver: "sqlite",
      path: join(dir, "queue.sqlite"),
      layout: { webhook: "webhook", tasks: ["public"], statistics: "statistics" },
    });
    store = await openStore({ driver: "fs", dir: join(dir, "store"), publicUrl: "http://127.0.0.1:9/" });
    // This test is about admission, not the sandbox: the job runs as a plain process.
    const loaded = parseConfig({ worker: { sandbox: { mode: "none" } } }, "test", dir);
    worker = await startWorker({
      forge: recordingForge(posted),
      store,
      executor: createExecutor(loaded),
      logger: silentLogger(),
      worker: "w1",
      workDir: join(dir, "work"),
      cloneBase,
      secrets: { "api-token": SECRET },
      defaultTimeout: 1,
      queue,
      queues: ["public"],
      concurrency: 1,
      entries: { signingKey: KEY, unsigned: { trusted: false, secrets: [] } },
    });
  });
  after(async () => {
    await worker?.stop();
    await queue?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const job = (context: string, secrets: string[]): Job => ({
    repo: "acme/demo",
    sha,
    pull: null,
    context,
    slug: `admission-${context}`,
    secrets,
  });

  async function logOf(context: string): Promise<string> {
    const final = await waitFor(`the result of ${context}`, async () =>
      posted.find((s) => s.context === context && s.state !== "pending"),
    );
    assert.equal(final.state, "success", final.description ?? "");
    return (await store.get(`admission-${context}/log`))?.toString() ?? "";
  }

  test("an unsigned entry naming a secret gets none, and is told it runs without network", async () => {
    await queue.publish("public", JSON.stringify({ job: job("unsigned", ["api-token"]) }));
    const log = await logOf("unsigned");
    assert.match(log, /Unsigned queue entry: it runs as untrusted code, with no secrets and no network/);
    assert.match(log, /secrets=\[\]/);
    assert.equal(log.includes(SECRET), false);
  });

  test("a signed entry whose secrets were changed gets none", async () => {
    const signed = JSON.parse(String(signTaskBody(JSON.stringify({ job: job("tampered", []) }), KEY)));
    const tampered = { ...signed, job: { ...signed.job, secrets: ["api-token"] } };
    await queue.publish("public", JSON.stringify(tampered));
    const log = await logOf("tampered");
    assert.match(log, /Queue entry with a bad signature: it runs as untrusted code/);
    assert.match(log, /secrets=\[\]/);
    assert.equal(log.includes(SECRET), false);
  });

  test("a properly signed entry gets its secret, masked in the log", async () => {
    await queue.publish(
      "public",
      String(signTaskBody(JSON.stringify({ job: job("signed", ["api-token"]) }), KEY)),
    );
    const log = await logOf("signed");
    assert.match(log, /secrets=\[api-token \]/);
    assert.match(log, /value: \*\*\*/);
    assert.equal(log.includes(SECRET), false);
    assert.doesNotMatch(log, /queue entry/i);
  });
});
