import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { webhookSecret } from "../../src/cli/services.js";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import type { QueueBackend } from "../../src/queue/types.js";
import { silentLogger } from "../../src/util/logger.js";
import { createWebhookHandler, MissingSecretError } from "../../src/webhook/index.js";

describe("webhook startup", () => {
  test("refuses to start without webhook.secret, naming the key", () => {
    const loaded = parseConfig({}, "hangar.yaml", "/nonexistent");
    assert.throws(
      () => webhookSecret(loaded, {}),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /webhook\.secret/);
        return true;
      },
    );
  });

  test("reads webhook.secret from the environment without echoing it", () => {
    const loaded = parseConfig(
      { webhook: { secret: { env: "HOOK_SECRET" } } },
      "hangar.yaml",
      "/nonexistent",
    );
    assert.equal(webhookSecret(loaded, { HOOK_SECRET: "s3cr3t" }), "s3cr3t");
    assert.throws(() => webhookSecret(loaded, {}), /webhook\.secret.*HOOK_SECRET/);
  });

  test("the handler refuses an empty secret", () => {
    const { config } = parseConfig({}, "test", "/nonexistent");
    const queue = {} as QueueBackend;
    assert.throws(
      () => createWebhookHandler({ config, secret: "", queue, logger: silentLogger() }),
      (error: unknown) => {
        assert.ok(error instanceof MissingSecretError);
        assert.match(error.message, /webhook\.secret/);
        return true;
      },
    );
  });
});
