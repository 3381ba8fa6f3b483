/**
 * Trust through `hangar serve` and the emulator. On the job side: a secret a trusted job prints
 * is masked (`***`) in the stored log; a job for untrusted code (an entry marked
 * `trusted: false`) gets no secret at all. On the scan side, failing closed: a direct trigger
 * runs trusted only at an open trusted PR's head or on a tested branch, a forge error makes
 * scan try again rather than trust, a closed PR's trigger runs nothing, a push after
 * `/hangar approve` is not approved, and a stranger's fork is not trusted for a trusted author.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { loadConfigFile } from "../../src/config/index.js";
import { openConfiguredQueue } from "../../src/queue/from-config.js";
import { createLogger } from "../../src/util/logger.js";
import { commentsOn, githubTime } from "../scan/helpers.js";
import { type Deployment, isFinal, sh, startDeployment, waitFor, waitForStatuses } from "./harness.js";

const REPO = "acme/secret";
const SECRET = `s3cr3t-${randomBytes(12).toString("hex")}`;
const SCRIPT = sh(
  `env | sed 's/^/env: /'\nif [ -n "\${HANGAR_SECRETS_DIR:-}" ]; then echo "token: $(cat "$HANGAR_SECRETS_DIR/api-token")"; else echo "no secrets dir"; fi`,
);
const MANUAL = "Manual testing required";

describe("secrets and trust", () => {
  let deployment: Deployment;
  before(async () => {
    deployment = await startDeployment({
      projects: {
        [REPO]: {
          branches: { main: [{ name: "leaky", secrets: ["api-token"] }] },
        },
      },
      trust: { users: ["alice"] },
      worker: { secrets: { "api-token": SECRET } },
    });
    // Reconciliation would test the PRs these tests open silently; they say what runs, not it.
    await deployment.kill();
    const config = parse(readFileSync(deployment.configFile, "utf8")) as Record<string, unknown>;
    config.reconcile = { atStart: false, intervalMinutes: 0 };
    writeFileSync(deployment.configFile, stringify(config));
    await deployment.restart();
    await deployment.emulator.createRepo({ repo: REPO, files: { ".hangar/run": SCRIPT } });
  });
  after(() => deployment?.stop());

  const fetchLog = async (url: string | null | undefined) => (await fetch(new URL("log", url ?? ""))).text();
  const token = () => readFileSync(join(deployment.dir, "github-token"), "utf8").trim();
  const pageOf = (number: number) => `${deployment.emulator.url}/${REPO}/pull/${number}`;
  const openPull = (author: string, extra: { fork?: string; deliver?: boolean } = {}) =>
    deployment.emulator.openPull({ repo: REPO, author, files: { [`f-${Math.random()}`]: "x\n" }, ...extra });

  /** What `hangar trigger` posts (on any commit): GitHub's status event then reaches scan. */
  async function trigger(sha: string, targetUrl?: string): Promise<void> {
    const response = await fetch(`${deployment.emulator.url}/repos/${REPO}/statuses/${sha}`, {
      method: "POST",
      headers: { authorization: `token ${token()}`, "content-type": "application/json" },
      body: JSON.stringify({
        state: "pending",
        context: "leaky",
        description: "Not yet tested (direct trigger)",
        ...(targetUrl === undefined ? {} : { target_url: targetUrl }),
      }),
    });
    assert.equal(response.status, 201);
  }

  /** The stored log of the finished leaky run on `sha`, which must have succeeded. */
  async function finishedLog(sha: string): Promise<string> {
    const statuses = await waitForStatuses(deployment, REPO, sha, "leaky", isFinal, 60_000);
    assert.equal(statuses.at(-1)?.state, "success", JSON.stringify(statuses));
    return fetchLog(statuses.at(-1)?.target_url);
  }

  const assertNoSecrets = (log: string) => {
    assert.match(log, /no secrets dir/);
    assert.doesNotMatch(log, /token:/);
    assert.equal(log.includes(SECRET), false);
  };

  test("a secret a trusted job prints appears as *** in the stored log", async () => {
    const pull = await openPull("alice");
    const log = await finishedLog(pull.sha);
    assert.match(log, /token: \*\*\*/);
    assert.equal(log.includes(SECRET), false, "the secret value is not in the log");
  });

  test("an untrusted author's job sees no secret, even when its entry names one", async () => {
    const pull = await openPull("mallory");
    await waitForStatuses(deployment, REPO, pull.sha, "leaky", (s) =>
      s.some((status) => status.description === MANUAL),
    );
    const loaded = loadConfigFile(deployment.configFile);
    const queue = await openConfiguredQueue(loaded, {}, createLogger({ level: "silent" }));
    try {
      const job = {
        repo: REPO,
        sha: pull.sha,
        pull: pull.number,
        context: "leaky",
        slug: `pull-${pull.number}-approved-leaky`,
        secrets: ["api-token"],
        trusted: false,
      };
      await queue.publish(loaded.config.queue.names.public, JSON.stringify({ job, human: "approved" }));
    } finally {
      await queue.close();
    }
    const log = await finishedLog(pull.sha);
    // The job's environment, as it printed it into its (public) log.
    const environment = log
      .split("\n")
      .filter((line) => line.startsWith("env: "))
      .join("\n");
    assert.match(environment, /env: TEST_REVISION=/);
    assert.equal(environment.includes(SECRET), false, "no secret value in the job's environment");
    assert.doesNotMatch(environment, /HANGAR_SECRETS_DIR/);
    assertNoSecrets(log);
    assert.match(log, /untrusted code.*no secrets/i, "the log says why there are none");
  });

  test("a trigger on a commit that is no open PR's head and on no branch runs without secrets", async () => {
    const pull = await openPull("alice", { deliver: false });
    await deployment.emulator.pushToPull({
      repo: REPO,
      number: pull.number,
      files: { y: "1\n" },
      deliver: false,
    });
    await trigger(pull.sha, pageOf(pull.number));
    assertNoSecrets(await finishedLog(pull.sha));
  });

  test("a trigger on a commit of main, below its tip, runs trusted", async () => {
    const older = await deployment.emulator.pushBranch({ repo: REPO, branch: "main", files: { m: "1\n" } });
    await deployment.emulator.pushBranch({ repo: REPO, branch: "main", files: { m: "2\n" } });
    await trigger(older.sha);
    assert.match(await finishedLog(older.sha), /token: \*\*\*/);
  });

  test("GitHub failing while scan lists the PRs: the entry is tried again, and runs untrusted", async () => {
    const pull = await openPull("mallory", { deliver: false });
    // Enough failures for every try of one scan: the entry itself must go back to the queue.
    await deployment.emulator.injectFault({
      method: "GET",
      path: `/repos/${REPO}/pulls`,
      status: 500,
      times: 4,
    });
    await trigger(pull.sha);
    assertNoSecrets(await finishedLog(pull.sha));
    const retried = deployment.logs.find(
      (line) =>
        line.msg === "scan failed; entry goes back to the queue" &&
        /trying again later/.test(String(line.err)),
    );
    assert.ok(retried, "scan logged the undecided trust and put the entry back");
    const listings = (await deployment.emulator.requests()).filter((r) =>
      r.path.startsWith(`/repos/${REPO}/pulls?`),
    );
    assert.deepEqual(
      listings.slice(-5).map((r) => r.status),
      [500, 500, 500, 500, 200],
    );
  });

  test("a trigger on a closed PR runs nothing, and scan says why", async () => {
    const pull = await openPull("alice", { deliver: false });
    await deployment.emulator.closePull({ repo: REPO, number: pull.number, deliver: false });
    await trigger(pull.sha, pageOf(pull.number));
    await waitFor("scan's reason", async () =>
      deployment.logs.find((line) => String(line.ignored).includes(`pull #${pull.number} is closed`)),
    );
    assert.deepEqual(
      (await deployment.emulator.statuses(REPO, pull.sha)).map((s) => s.description),
      ["Not yet tested (direct trigger)"],
    );
  });

  test("a push after /hangar approve is not run: hangar asks for a new approval", async () => {
    const emulator = deployment.emulator;
    const pull = await openPull("mallory");
    await waitForStatuses(deployment, REPO, pull.sha, "leaky", (s) =>
      s.some((x) => x.description === MANUAL),
    );
    // The maintainer approves; GitHub's event reaches hangar only after mallory pushed again.
    const approval = await emulator.addComment({
      repo: REPO,
      number: pull.number,
      author: "alice",
      body: "/hangar approve",
      deliver: false,
    });
    await waitFor("GitHub's clock to pass the comment", async () =>
      githubTime() > approval.createdAt ? true : undefined,
    );
    const pushed = await emulator.pushToPull({ repo: REPO, number: pull.number, files: { evil: "1\n" } });
    await waitForStatuses(deployment, REPO, pushed.sha, "leaky", (s) =>
      s.some((x) => x.description === MANUAL),
    );
    await emulator.deliver("issue_comment", approval.event);
    const replies = await waitFor("hangar's reply", async () => {
      const found = (await commentsOn(emulator.url, REPO, pull.number, token())).filter((body) =>
        body.startsWith("@alice"),
      );
      return found.length > 0 ? found : undefined;
    });
    assert.equal(replies.length, 1);
    assert.match(replies[0] ?? "", new RegExp(`${pushed.sha.slice(0, 8)} became the head .*approve`));
    assert.deepEqual(
      (await emulator.statuses(REPO, pushed.sha)).map((s) => s.description),
      [MANUAL],
      "nothing ran on the pushed head",
    );

    await emulator.addComment({ repo: REPO, number: pull.number, author: "alice", body: "/hangar approve" });
    assertNoSecrets(await finishedLog(pushed.sha));
  });

  test("a trusted author's PR from an untrusted owner's fork waits for manual testing", async () => {
    const pull = await openPull("alice", { fork: "mallory" });
    const statuses = await waitForStatuses(deployment, REPO, pull.sha, "leaky", (s) => s.length > 0);
    assert.deepEqual(
      statuses.map((s) => s.description),
      [MANUAL],
    );
  });
});
