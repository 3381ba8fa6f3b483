/** GitHub App authentication against the emulator's app endpoints: JWT, installation tokens, API calls. */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../../src/emulator/index.js";
import { GitHubAppAuth } from "../../src/forge/app-auth.js";
import { createForge } from "../../src/forge/index.js";
import { silentLogger } from "../../src/util/logger.js";
import { createTestApp, type TestApp } from "./app-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-app-"));
const token = "emulator-token";
let emulator: Emulator;
let app: TestApp;

before(async () => {
  emulator = await startEmulator({ dir: join(dir, "git"), token });
  await emulator.createRepo({ repo: "acme/app", files: { "README.md": "x\n" } });
  await emulator.createRepo({ repo: "other/lib", files: { "README.md": "y\n" } });
  app = await createTestApp(emulator.url, token);
});
after(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("GitHub App authentication", () => {
  test("a JWT signed with the app's key buys an installation token the API accepts", async () => {
    const auth = new GitHubAppAuth({ api: emulator.url, appId: app.id, privateKey: app.pem });
    const installation = await auth.installationToken("acme/app");
    assert.match(installation, /^ghs_/);
    const answer = await fetch(`${emulator.url}/repos/acme/app`, {
      headers: { authorization: `token ${installation}` },
    });
    assert.equal(answer.status, 200);
    assert.equal(await auth.installationToken("acme/app"), installation, "cached until near expiry");
    const unauthenticated = await fetch(`${emulator.url}/repos/acme/app`);
    assert.equal(unauthenticated.status, 401, "the emulator does require credentials");
  });

  test("the forge works through the App's fetch alone, per repository owner", async () => {
    const auth = new GitHubAppAuth({ api: emulator.url, appId: app.id, privateKey: app.pem });
    const forge = createForge({ api: emulator.url, post: true, logger: silentLogger(), fetch: auth.fetch });
    const pull = await emulator.openPull({
      repo: "acme/app",
      author: "alice",
      files: { a: "1\n" },
      deliver: false,
    });
    assert.equal((await forge.getPull("acme/app", pull.number)).headSha, pull.sha);
    await forge.postStatus("acme/app", pull.sha, { context: "c", state: "pending", description: "x" });
    assert.equal((await emulator.statuses("acme/app", pull.sha))[0]?.context, "c");
    assert.equal(await forge.readFile("other/lib", "main", "README.md"), "y\n");
    assert.notEqual(await auth.installationToken("acme/app"), await auth.installationToken("other/lib"));
    const exchanges = (await emulator.requests()).filter((r) =>
      /\/app\/installations\/\d+\/access_tokens$/.test(r.path),
    );
    assert.ok(exchanges.length >= 2 && exchanges.every((r) => r.status === 201));
  });

  test("a JWT signed with another key, or for another app, is refused", async () => {
    const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs1",
      format: "pem",
    });
    const wrongKey = new GitHubAppAuth({ api: emulator.url, appId: app.id, privateKey: stranger.toString() });
    await assert.rejects(wrongKey.installationToken("acme/app"), /installation lookup .* failed: 401/);
    const wrongApp = new GitHubAppAuth({ api: emulator.url, appId: app.id + 1000, privateKey: app.pem });
    await assert.rejects(wrongApp.installationToken("acme/app"), /401/);
  });

  test("a configured installation id is used without a lookup", async () => {
    const finder = new GitHubAppAuth({ api: emulator.url, appId: app.id, privateKey: app.pem });
    const jwt = await finder.appJwt();
    const found = (await (
      await fetch(`${emulator.url}/repos/acme/app/installation`, {
        headers: { authorization: `bearer ${jwt}` },
      })
    ).json()) as { id: number };
    const fixed = new GitHubAppAuth({
      api: emulator.url,
      appId: app.id,
      privateKey: app.pem,
      installationId: found.id,
    });
    const installation = await fixed.installationToken();
    const answer = await fetch(`${emulator.url}/repos/acme/app/pulls`, {
      headers: { authorization: `token ${installation}` },
    });
    assert.equal(answer.status, 200);
  });
});
