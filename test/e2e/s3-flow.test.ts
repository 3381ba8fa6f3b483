/** The whole PR flow with store.driver s3 (s3rver started here): status links open a page that shows the log. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/types.js";
import { S3RVER_CREDENTIALS, type S3Server, startS3rver } from "../store/s3rver.js";
import { cleanRun, type Deployment, isFinal, sh, startDeployment, waitForStatuses } from "./harness.js";

describe("pull request flow on the s3 store", () => {
  let s3: S3Server;
  let bucket: string;
  let deployment: Deployment;
  let reader: Store;

  before(async () => {
    s3 = await startS3rver();
    bucket = await s3.bucket("hangar-logs");
    deployment = await startDeployment({
      projects: {
        "acme/gadget": { branches: { main: ["debian/unit"] } },
        "acme/flaky": { branches: { main: ["fedora/unit"] } },
      },
      trust: { users: ["alice"] },
      store: {
        driver: "s3",
        s3: { url: bucket, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", acl: "public-read" },
      },
    }).catch(async (error: unknown) => {
      await s3.close();
      throw error;
    });
    reader = await openStore({ driver: "s3", url: bucket, credentials: S3RVER_CREDENTIALS });
    const run = (script: string) => ({ "README.md": "test repo\n", ".hangar/run": sh(script) });
    await deployment.emulator.createRepo({
      repo: "acme/gadget",
      files: run(
        [
          'echo "gadget test for $TEST_REVISION"',
          "printf '\\033[1;32mall <good>\\033[0m\\n'",
          'echo shot > "$TEST_ATTACHMENTS/screen.txt"',
        ].join("\n"),
      ),
    });
    await deployment.emulator.createRepo({
      repo: "acme/flaky",
      files: run('echo "flaky is broken"\nexit 2'),
    });
  });
  after(async () => {
    await reader?.close();
    await deployment?.stop();
    await s3?.close();
  });

  test("a clean PR: three statuses, and target_url opens a page with the output, served by S3", async () => {
    const pull = await deployment.emulator.openPull({
      repo: "acme/gadget",
      author: "alice",
      files: { f: "1\n" },
    });
    const statuses = await waitForStatuses(
      deployment,
      "acme/gadget",
      pull.sha,
      "debian/unit",
      isFinal,
      60_000,
    );
    assert.deepEqual(
      statuses.map((s) => [s.state, s.description]),
      cleanRun(),
    );
    const target = statuses[2]?.target_url ?? "";
    assert.ok(target.startsWith(`${bucket}/`) && target.endsWith("/log.html"), target);
    assert.equal(statuses[1]?.target_url, target);

    const page = await fetch(target);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await page.text();
    assert.ok(html.includes(`gadget test for ${pull.sha}`), "the page itself holds the output");
    assert.ok(html.includes('<span class="b f2">all &#60;good&#62;</span>'), "escaped, colours rendered");
    assert.match(html, /<span id="state" class="state success">success<\/span>/);
    assert.match(html, /<a href="attachments\/screen.txt">screen.txt<\/a>/);

    const log = await (await fetch(new URL("log", target))).text();
    assert.match(log, new RegExp(`gadget test for ${pull.sha}`));
    assert.equal(await (await fetch(new URL("attachments/screen.txt", target))).text(), "shot\n");
    const slug = decodeURIComponent(new URL(target).pathname.split("/").at(-2) ?? "");
    assert.deepEqual(await reader.list(`${slug}/log.chunks/`), [], "chunks are gone once the log is whole");
    const status = JSON.parse((await reader.get(`${slug}/status.json`))?.toString() ?? "{}") as {
      state?: string;
    };
    assert.equal(status.state, "success");
  });

  test("a failing PR: the failure status links a page with the output and the failed state", async () => {
    const pull = await deployment.emulator.openPull({
      repo: "acme/flaky",
      author: "alice",
      files: { f: "2\n" },
    });
    const statuses = await waitForStatuses(
      deployment,
      "acme/flaky",
      pull.sha,
      "fedora/unit",
      isFinal,
      60_000,
    );
    const final = statuses.at(-1);
    assert.equal(final?.state, "failure");
    const html = await (await fetch(final?.target_url ?? "")).text();
    assert.ok(html.includes("flaky is broken"));
    assert.match(html, /class="state failure">failure</);
  });
});
