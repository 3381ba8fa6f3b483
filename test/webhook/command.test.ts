import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startServices } from "../../src/cli/services.js";
import { loadConfigFile } from "../../src/config/index.js";
import { openConfiguredQueue } from "../../src/queue/from-config.js";
import { silentLogger } from "../../src/util/logger.js";
import { deliver, pullRequestPayload, signature } from "./harness.js";

test("hangar webhook's setup: config file, secret from a file, queue next to the config", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-webhook-command-"));
  try {
    writeFileSync(join(dir, "hook-secret"), "from-a-file\n");
    const configFile = join(dir, "hangar.yaml");
    writeFileSync(
      configFile,
      [
        "webhook:",
        "  listen: 127.0.0.1:0",
        "  secret: {file: hook-secret}",
        "queue:",
        "  sqlite: {path: q.sqlite}",
        "",
      ].join("\n"),
    );
    const loaded = loadConfigFile(configFile);
    const running = await startServices({
      loaded,
      env: {},
      roles: { webhook: true, scan: false, run: false, storeServer: false },
      logger: silentLogger(),
    });
    const body = pullRequestPayload();
    let status: number;
    try {
      status = (
        await deliver(running.webhookUrl ?? "", {
          event: "pull_request",
          body,
          signature: signature(body, "from-a-file"),
        })
      ).status;
    } finally {
      await running.stop();
    }
    assert.equal(status, 202);
    const queue = await openConfiguredQueue(loaded, {}, silentLogger());
    try {
      assert.equal((await queue.inspect("webhook", 0)).ready, 1);
    } finally {
      await queue.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
