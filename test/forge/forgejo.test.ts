/** The Forgejo/Gitea forge against a small fake of their API, and its selection per project. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseConfig } from "../../src/config/index.js";
import { ForgejoError, ForgejoForge } from "../../src/forge/forgejo.js";
import { cloneBaseOf, projectForges } from "../../src/forge/projects.js";
import type { Forge } from "../../src/forge/types.js";
import { reportScheduledResult } from "../../src/schedule/issues.js";
import { silentLogger } from "../../src/util/logger.js";
import { FAKE_PULL, type FakeForgejo, startFakeForgejo } from "./forgejo-fake.js";

const TOKEN = "forgejo-token";
let fake: FakeForgejo;

before(async () => {
  fake = await startFakeForgejo(TOKEN);
});
after(() => fake.close());

describe("Forgejo forge", () => {
  test("pulls, commit statuses, files and org membership", async () => {
    const forge = new ForgejoForge({ api: fake.api, token: TOKEN });
    const pull = await forge.getPull("forge/proj", 3);
    assert.deepEqual(
      [pull.number, pull.author, pull.headSha, pull.baseRef, pull.labels],
      [3, "alice", FAKE_PULL.headSha, "main", ["bug"]],
    );
    assert.equal(pull.headOwner, "alice");
    assert.equal(pull.htmlUrl, "http://fake/forge/proj/pulls/3");
    assert.equal((await forge.listOpenPulls("forge/proj")).length, 1);
    await forge.postStatus("forge/proj", pull.headSha, {
      context: "unit",
      state: "pending",
      description: "Not yet tested",
    });
    await forge.postStatus("forge/proj", pull.headSha, {
      context: "unit",
      state: "success",
      description: "Success [w]",
      target_url: "http://log/",
    });
    const statuses = await forge.getStatuses("forge/proj", pull.headSha);
    assert.deepEqual(statuses.get("unit"), {
      context: "unit",
      state: "success",
      description: "Success [w]",
      target_url: "http://log/",
      created_at: FAKE_PULL.statusTime,
    });
    assert.equal(await forge.readFile("forge/proj", "main", ".hangar/run"), "#!/bin/sh\n");
    assert.equal(await forge.readFile("forge/proj", "main", "missing"), null);
    assert.equal(await forge.isOrgMember("devs", "alice"), true);
    assert.equal(await forge.isOrgMember("devs", "mallory"), false);
    assert.equal(await forge.branchHead("forge/proj", "main"), FAKE_PULL.branchHead);
    assert.equal(await forge.isOnBranch("forge/proj", "main", FAKE_PULL.branchHead), true);
    assert.equal(await forge.isOnBranch("forge/proj", "main", FAKE_PULL.headSha), false);
    assert.equal(await forge.isOnBranch("forge/proj", "main", "c".repeat(40)), false, "unknown: 404");
  });

  test("a failing request names method, path and status; a bad token is refused", async () => {
    const forge = new ForgejoForge({ api: fake.api, token: "wrong" });
    await assert.rejects(forge.getPull("forge/proj", 3), (error: unknown) => {
      assert.ok(error instanceof ForgejoError);
      assert.equal(error.status, 401);
      assert.match(error.message, /GET \/repos\/forge\/proj\/pulls\/3 failed: 401/);
      return true;
    });
  });

  test("issues: created with label ids, found by title, commented and closed", async () => {
    const forge = new ForgejoForge({ api: fake.api, token: TOKEN });
    const base = {
      repo: "forge/proj",
      branch: "main",
      context: "nightly",
      sha: "c".repeat(40),
      description: "x",
    };
    const opened = await reportScheduledResult(forge, { ...base, state: "failure", logUrl: "http://log/1/" });
    assert.equal(opened?.kind, "opened");
    const updated = await reportScheduledResult(forge, { ...base, state: "error", logUrl: "http://log/2/" });
    assert.deepEqual(updated, { kind: "updated", issue: opened?.issue });
    const closed = await reportScheduledResult(forge, { ...base, state: "success", logUrl: "http://log/3/" });
    assert.deepEqual(closed, { kind: "closed", issue: opened?.issue });
    const issue = fake.issues.find((candidate) => candidate.number === opened?.issue);
    assert.equal(issue?.state, "closed");
    assert.match(issue?.body ?? "", /http:\/\/log\/1\//);
    assert.equal(issue?.comments.length, 2);
    const labelled = await forge.createIssue("forge/proj", {
      title: "t",
      body: "b",
      labels: ["ci", "unknown"],
    });
    assert.deepEqual(fake.issues.find((candidate) => candidate.number === labelled)?.labels, [7]);
  });

  test("post: false reads but only logs writes", async () => {
    const forge = new ForgejoForge({ api: fake.api, token: TOKEN, post: false, logger: silentLogger() });
    await forge.postStatus("forge/proj", "d".repeat(40), { context: "unit", state: "pending" });
    assert.equal(fake.statuses.has("d".repeat(40)), false);
    assert.equal((await forge.getPull("forge/proj", 3)).number, 3);
  });

  test("selected per project: forgejo projects go to Forgejo, the rest to GitHub", async () => {
    const loaded = parseConfig(
      {
        forge: { forgejo: { api: fake.api, clone: "https://forgejo.example", token: TOKEN } },
        projects: { "forge/proj": { forge: "forgejo", branches: { main: ["unit"] } }, "gh/proj": {} },
      },
      "test",
      "/",
    );
    const calls: string[] = [];
    const github = new Proxy({} as Forge, {
      get: (_target, name) => async () => {
        calls.push(String(name));
        return { number: 99 };
      },
    });
    const forges = projectForges({ loaded, env: {}, logger: silentLogger(), github });
    assert.equal((await forges.forge.getPull("forge/proj", 3)).headSha, FAKE_PULL.headSha);
    assert.equal((await forges.forge.getPull("gh/proj", 1)).number, 99);
    assert.deepEqual(calls, ["getPull"]);
    assert.equal(await forges.cloneToken("forge/proj"), TOKEN);
    assert.equal(cloneBaseOf(loaded.config, "forge/proj"), "https://forgejo.example");
    assert.equal(cloneBaseOf(loaded.config, "gh/proj"), undefined);
  });

  test("a forgejo project without forge.forgejo, or checks without an App, is a config error", () => {
    const loaded = parseConfig(
      { projects: { "a/b": { forge: "forgejo" }, "c/d": { report: "checks" } } },
      "test",
      "/",
    );
    assert.throws(
      () => projectForges({ loaded, env: {}, logger: silentLogger(), github: {} as Forge }),
      /a\/b\.forge: forgejo needs forge\.forgejo[\s\S]*c\/d\.report: checks needs a GitHub App/,
    );
  });
});
