/**
 * What runJob prepares and reads, whatever the checkout holds: the job's own
 * tmp directory, files owned by the sandbox's user when a root worker
 * sandboxes, entry points and command directories judged without following
 * symlinks, attachments uploaded without following them, and internal errors
 * shown only by id.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { parseConfig } from "../../src/config/index.js";
import type { CommitStatus } from "../../src/forge/types.js";
import type { Job } from "../../src/queue/messages.js";
import { createExecutor } from "../../src/runner/executors.js";
import { type JobDeps, runJob } from "../../src/runner/job.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/types.js";
import { createLogger, silentLogger } from "../../src/util/logger.js";
import { makeRepository, type RepositoryFile, recordingForge } from "./job-fixtures.js";

const SECRET = "job-dir-s3cr3t-value";
const SANDBOX = { uid: 65432, gid: 65432 } as const;
const asRoot = process.getuid?.() === 0;

const INSPECT = `#!/bin/sh
job=$(dirname "$TMPDIR")
echo "tmp-in-job-dir=$([ "$TMPDIR" = "$job/tmp" ] && [ -d "$TMPDIR" ] && echo yes || echo no)"
echo "job-dir=$(stat -c '%u:%g %a' "$job")"
for part in "$PWD" "$PWD/.hangar/run" "$HOME" "$TMPDIR" "$TEST_ATTACHMENTS" "$HANGAR_SECRETS_DIR" "$HANGAR_SECRETS_DIR/api-token"; do
  echo "owner $(basename "$part")=$(stat -c '%u:%g' "$part")"
done
echo "plain" > "$TEST_ATTACHMENTS/plain.txt"
ln -s "$HANGAR_SECRETS_DIR/api-token" "$TEST_ATTACHMENTS/link-to-secret"
`;

describe("the job's directory and what hangar reads of the checkout", () => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-job-dir-"));
  const cloneBase = join(dir, "repos");
  const posted: CommitStatus[] = [];
  let store: Store;
  let deps: JobDeps;

  before(async () => {
    mkdirSync(join(dir, "work"));
    store = await openStore({ driver: "fs", dir: join(dir, "store"), publicUrl: "http://127.0.0.1:9/" });
    // The sandbox itself is the executors' business; here the job runs as a plain process and looks around.
    const loaded = parseConfig({ worker: { sandbox: { mode: "none" } } }, "test", dir);
    deps = {
      forge: recordingForge(posted),
      store,
      executor: createExecutor(loaded),
      logger: silentLogger(),
      worker: "w1",
      workDir: join(dir, "work"),
      cloneBase,
      secrets: { "api-token": SECRET },
      defaultTimeout: 1,
    };
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let count = 0;
  async function run(
    files: Record<string, RepositoryFile>,
    extra: Partial<Job> = {},
    more: Partial<JobDeps> = {},
  ) {
    const repo = `acme/r${++count}`;
    const sha = makeRepository(cloneBase, repo, files);
    const slug = `job-dir-${count}`;
    const job: Job = { repo, sha, pull: null, context: "ctx", slug, secrets: ["api-token"], ...extra };
    const final = await runJob(job, { ...deps, ...more }, new AbortController().signal);
    const log = (await store.get(`${slug}/log`))?.toString() ?? "";
    return { final, log, slug };
  }

  test("a root worker's sandbox hands the job's files to its user; TMPDIR is the job's own", async () => {
    // The executor hands the job directory over; this one sandboxes as the defaults say.
    const sandboxed = createExecutor(parseConfig({ worker: { sandbox: SANDBOX } }, "test", dir));
    const { final, log, slug } = await run({ ".hangar/run": INSPECT }, {}, { executor: sandboxed });
    assert.equal(final.state, "success", log);
    assert.match(log, /tmp-in-job-dir=yes/);
    const owner = asRoot ? `${SANDBOX.uid}:${SANDBOX.gid}` : `${process.getuid?.()}:${process.getgid?.()}`;
    for (const part of ["checkout", "run", "home", "tmp", "attachments", "secrets", "api-token"]) {
      assert.match(log, new RegExp(`owner ${part}=${owner}\\n`), part);
    }
    // Root is not mapped into the job's user namespace: it shows as the kernel's overflow id.
    if (asRoot) assert.match(log, /job-dir=65534:65534 711/, "the job directory itself stays the worker's");
    // The symlink the job left among its attachments is not followed.
    assert.equal((await store.get(`${slug}/attachments/plain.txt`))?.toString(), "plain\n");
    assert.equal(await store.get(`${slug}/attachments/link-to-secret`), null);
    assert.equal(log.includes(SECRET), false);
  });

  test("without a sandbox, files stay the worker's", async () => {
    const { final, log } = await run({ ".hangar/run": INSPECT });
    assert.equal(final.state, "success", log);
    assert.match(log, new RegExp(`owner checkout=${process.getuid?.()}:`));
  });

  test("an entry point is judged by the commit's tree, not through a symlinked directory", async () => {
    const outside = mkdtempSync(join(dir, "outside-"));
    writeFileSync(join(outside, "run"), "#!/bin/sh\necho ran-from-outside\n", { mode: 0o755 });
    const { final, log } = await run({ ".hangar": { symlink: outside } });
    assert.equal(final.state, "failure");
    assert.match(final.description, /no \.hangar\/run or \.cockpit-ci\/run in the repository/);
    assert.doesNotMatch(log, /ran-from-outside/);
  });

  test("a non-executable entry point is the repository's failure", async () => {
    const { final } = await run({ ".hangar/run": "echo not executable\n" });
    assert.equal(final.state, "failure");
    assert.match(final.description, /\.hangar\/run is not executable/);
  });

  test("a symlinked .hangar-command is refused before anything is checked out into it", async () => {
    const target = mkdtempSync(join(dir, "target-"));
    const { final } = await run(
      { ".hangar/run": "#!/bin/sh\n", ".hangar-command": { symlink: target } },
      { command_subject: { repo: "acme/lib", branch: "main" } },
    );
    assert.equal(final.state, "failure");
    assert.match(final.description, /the repository has \.hangar-command/);
  });

  test("an internal error shows only an id; the details go to hangar's own log under it", async () => {
    const lines = new PassThrough();
    const logged: string[] = [];
    lines.on("data", (chunk: Buffer) => logged.push(chunk.toString()));
    const missing = join(dir, "no-such-clone-base");
    const { final, log } = await run(
      { ".hangar/run": "#!/bin/sh\n" },
      {},
      { cloneBase: missing, logger: createLogger({ destination: lines }) },
    );
    assert.deepEqual(final, { state: "error", description: "Internal error" });
    const id = /Internal error \(id ([0-9a-f]{8})\) while checking out the repository/.exec(log)?.[1];
    assert.ok(id, log);
    assert.equal(log.includes(missing), false, "no path of the worker in the public log");
    assert.doesNotMatch(log, /git |fatal|at [\w.]+ \(/);
    const record = logged
      .join("")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => entry.errorId === id);
    assert.ok(record, "the id is in hangar's own log");
    assert.match(String(record.err), /git fetch failed/);
  });
});
