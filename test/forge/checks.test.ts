/** Reporting through check runs: the Checks forge against the emulator's Checks API, and Re-run events. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { GitHubAppAuth } from "../../src/forge/app-auth.js";
import { ChecksForge } from "../../src/forge/checks.js";
import { createForge } from "../../src/forge/index.js";
import { readEnvelope } from "../../src/scan/events.js";
import { silentLogger } from "../../src/util/logger.js";
import { waitFor } from "../e2e/harness.js";
import { createTestApp } from "./app-fixture.js";

const REPO = "acme/checked";
const dir = mkdtempSync(join(tmpdir(), "hangar-checks-"));
let emulator: Emulator;
let auth: GitHubAppAuth;
let receiver: Server;
const received: { event: string; body: Record<string, unknown> }[] = [];

interface CheckRunJson {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  details_url: string | null;
  output: { title: string; summary: string };
}

async function checkRuns(sha: string): Promise<CheckRunJson[]> {
  const response = await fetch(`${emulator.url}/repos/${REPO}/commits/${sha}/check-runs`);
  return ((await response.json()) as { check_runs: CheckRunJson[] }).check_runs;
}

function checksForge(): ChecksForge {
  const base = createForge({ api: emulator.url, post: true, logger: silentLogger(), fetch: auth.fetch });
  return new ChecksForge({ base, api: emulator.url, fetch: auth.fetch });
}

before(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        event: String(request.headers["x-github-event"]),
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>,
      });
      response.writeHead(202).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
  const port = (receiver.address() as AddressInfo).port;
  emulator = await startEmulator({
    dir: join(dir, "git"),
    webhook: { url: `http://127.0.0.1:${port}/`, secret: "s" },
  });
  await emulator.createRepo({ repo: REPO, files: { "README.md": "x\n" } });
  const app = await createTestApp(emulator.url);
  auth = new GitHubAppAuth({ api: emulator.url, appId: app.id, privateKey: app.pem });
});
after(async () => {
  await emulator.close();
  await new Promise((done) => receiver.close(done));
  rmSync(dir, { recursive: true, force: true });
});

describe("Checks forge", () => {
  test("a run's three statuses become one check run: queued, in progress, completed with the log link", async () => {
    const forge = checksForge();
    const pull = await emulator.openPull({
      repo: REPO,
      author: "alice",
      files: { a: "1\n" },
      deliver: false,
    });
    const log = "http://store.example/pull-1-abc/";
    await forge.postStatus(REPO, pull.sha, {
      context: "debian/unit",
      state: "pending",
      description: "Not yet tested",
    });
    assert.equal((await checkRuns(pull.sha))[0]?.status, "queued");
    await forge.postStatus(REPO, pull.sha, {
      context: "debian/unit",
      state: "pending",
      description: "In progress [w1]",
      target_url: log,
    });
    assert.equal((await checkRuns(pull.sha))[0]?.status, "in_progress");
    await forge.postStatus(REPO, pull.sha, {
      context: "debian/unit",
      state: "failure",
      description: "Failed (exit code 1) [w1]",
      target_url: log,
    });
    const runs = await checkRuns(pull.sha);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]?.status, "completed");
    assert.equal(runs[0]?.conclusion, "failure");
    assert.equal(runs[0]?.details_url, log);
    assert.equal(runs[0]?.output.title, "Failed (exit code 1) [w1]");
    assert.match(runs[0]?.output.summary ?? "", new RegExp(`\\[Log\\]\\(${log}\\)`));
    assert.deepEqual((await emulator.statuses(REPO, pull.sha)).length, 0, "no commit statuses");

    const statuses = await forge.getStatuses(REPO, pull.sha);
    const { created_at, ...unit } = statuses.get("debian/unit") ?? { created_at: null };
    assert.deepEqual(unit, {
      context: "debian/unit",
      state: "failure",
      description: "Failed (exit code 1) [w1]",
      target_url: log,
    });
    assert.match(created_at ?? "", /^\d{4}-\d\d-\d\dT/, "the run's start: when the commit was known");

    await forge.postStatus(REPO, pull.sha, {
      context: "debian/unit",
      state: "pending",
      description: "Not yet tested",
    });
    assert.equal((await checkRuns(pull.sha)).length, 2, "running again makes a new check run");
    assert.equal((await forge.getStatuses(REPO, pull.sha)).get("debian/unit")?.state, "pending");
  });

  test("a direct trigger still goes out as a commit status, so its status event queues the job", async () => {
    const forge = checksForge();
    const pull = await emulator.openPull({
      repo: REPO,
      author: "alice",
      files: { b: "1\n" },
      deliver: false,
    });
    await forge.postStatus(REPO, pull.sha, {
      context: "debian/unit",
      state: "pending",
      description: "Not yet tested (direct trigger)",
    });
    assert.equal(
      (await emulator.statuses(REPO, pull.sha))[0]?.description,
      "Not yet tested (direct trigger)",
    );
    assert.equal((await checkRuns(pull.sha)).length, 0);
  });

  test("only an app's installation token may write check runs", async () => {
    const pull = await emulator.openPull({
      repo: REPO,
      author: "alice",
      files: { c: "1\n" },
      deliver: false,
    });
    const response = await fetch(`${emulator.url}/repos/${REPO}/check-runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x", head_sha: pull.sha }),
    });
    assert.equal(response.status, 403);
  });

  test("Re-run sends check_run rerequested, which scan reads as a rerun of that context", async () => {
    const forge = checksForge();
    const pull = await emulator.openPull({
      repo: REPO,
      author: "alice",
      files: { d: "1\n" },
      deliver: false,
    });
    await forge.postStatus(REPO, pull.sha, {
      context: "fedora/x",
      state: "success",
      description: "Success [w]",
    });
    const run = (await checkRuns(pull.sha))[0];
    const response = await fetch(`${emulator.url}/repos/${REPO}/check-runs/${run?.id}/rerequest`, {
      method: "POST",
    });
    assert.equal(response.status, 201);
    const delivery = await waitFor("the check_run event", async () =>
      received.find((d) => d.event === "check_run" && (d.body.check_run as { id?: number }).id === run?.id),
    );
    assert.equal(delivery.body.action, "rerequested");
    assert.deepEqual(readEnvelope({ event: "check_run", request: delivery.body }), {
      kind: "rerun",
      repo: REPO,
      sha: pull.sha,
      context: "fedora/x",
      pulls: [pull.number],
    });
  });
});
