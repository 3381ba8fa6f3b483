/** `hangar trigger` and `hangar scan` as child processes against the emulator. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { ConfigInput } from "../../src/config/index.js";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { DEMO_AUTHOR, DEMO_FILES, DEMO_PROJECTS, DEMO_PULL_FILES, DEMO_REPO } from "../../src/local/demo.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/cli.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "hangar-scan-cli-"));
const token = "test-token-for-the-emulator";
let emulator: Emulator;
let configFile: string;
let pull: { number: number; sha: string };

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [FIXTURE, ...args, "--config", configFile],
      { timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  emulator = await startEmulator({ dir: join(dir, "git"), token });
  await emulator.createRepo({ repo: DEMO_REPO, files: DEMO_FILES });
  pull = await emulator.openPull({
    repo: DEMO_REPO,
    author: DEMO_AUTHOR,
    files: DEMO_PULL_FILES,
    title: "Demo",
  });
  writeFileSync(join(dir, "token"), token);
  const config: ConfigInput = {
    queue: { driver: "sqlite", sqlite: { path: "queue.sqlite" } },
    forge: { github: { api: emulator.url, clone: "git", token: { file: "token" } } },
    projects: {
      ...DEMO_PROJECTS,
      [DEMO_REPO]: {
        branches: {
          main: ["debian/unit", { name: "fedora/integration", internal: true, priority: 7 }],
          _manual: ["manual/long"],
        },
      },
    },
    trust: { users: [DEMO_AUTHOR] },
  };
  configFile = join(dir, "hangar.yaml");
  writeFileSync(configFile, stringify(config));
});
after(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("hangar scan", () => {
  test("--dry --human prints one line per context that would run, with queue and priority, and posts nothing", async () => {
    const result = await run(["scan", DEMO_REPO, "--dry", "--human"]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 2, result.stdout);
    assert.match(
      lines[0] ?? "",
      new RegExp(`^debian/unit for ${DEMO_REPO} pull #${pull.number} \\(Demo\\) \\[public, priority 5\\]$`),
    );
    assert.match(lines[1] ?? "", /^fedora\/integration .* \[internal, priority 7\]$/);
    assert.deepEqual(await emulator.statuses(DEMO_REPO, pull.sha), []);
  });

  test("--dry prints the queue entries as JSON; an unknown repository is refused", async () => {
    const result = await run(["scan", DEMO_REPO, "--pr", String(pull.number), "--dry"]);
    const entries = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { queue: string; job: { sha: string } });
    assert.deepEqual(
      entries.map((e) => [e.queue, e.job.sha]),
      [
        ["public", pull.sha],
        ["internal", pull.sha],
      ],
    );
    const refused = await run(["scan", "acme/unknown", "--dry"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /acme\/unknown is not a project/);
  });
});

describe("hangar trigger", () => {
  test("posts pending 'Not yet tested (direct trigger)' on the head, _manual contexts included, naming the PR", async () => {
    const result = await run(["trigger", DEMO_REPO, String(pull.number), "manual/long"]);
    assert.equal(result.code, 0, result.stderr);
    const statuses = await emulator.statuses(DEMO_REPO, pull.sha);
    assert.deepEqual(
      statuses.map((s) => [s.context, s.state, s.description, s.target_url]),
      [
        [
          "manual/long",
          "pending",
          "Not yet tested (direct trigger)",
          `${emulator.url}/${DEMO_REPO}/pull/${pull.number}`,
        ],
      ],
      "the target_url is the PR's page, which tells scan which PR's head this must be",
    );
  });

  test("refuses a closed pull request, posting nothing", async () => {
    const closed = await emulator.openPull({ repo: DEMO_REPO, author: DEMO_AUTHOR, files: { c: "1\n" } });
    await emulator.closePull({ repo: DEMO_REPO, number: closed.number });
    const result = await run(["trigger", DEMO_REPO, String(closed.number), "manual/long"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`${DEMO_REPO}#${closed.number} is closed`));
    assert.deepEqual(await emulator.statuses(DEMO_REPO, closed.sha), []);
  });

  test("refuses a context not in the test map, posting nothing", async () => {
    const before = (await emulator.statuses(DEMO_REPO, pull.sha)).length;
    const result = await run(["trigger", DEMO_REPO, String(pull.number), "debian/unit", "no/such"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /not in the test map of hangar-demo\/hello for branch main: no\/such/);
    assert.equal((await emulator.statuses(DEMO_REPO, pull.sha)).length, before);
  });

  test("--all-failed retriggers every failed context", async () => {
    const other = await emulator.openPull({
      repo: DEMO_REPO,
      author: DEMO_AUTHOR,
      files: { x: "1\n" },
      deliver: false,
    });
    const post = async (context: string, state: string) => {
      const response = await fetch(`${emulator.url}/repos/${DEMO_REPO}/statuses/${other.sha}`, {
        method: "POST",
        headers: { authorization: `token ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ context, state, description: state }),
      });
      assert.equal(response.status, 201);
    };
    await post("debian/unit", "failure");
    await post("fedora/integration", "success");
    const result = await run(["trigger", DEMO_REPO, String(other.number), "--all-failed"]);
    assert.equal(result.code, 0, result.stderr);
    const latest = (await emulator.statuses(DEMO_REPO, other.sha)).at(-1);
    assert.deepEqual(
      [latest?.context, latest?.description],
      ["debian/unit", "Not yet tested (direct trigger)"],
    );
  });
});
