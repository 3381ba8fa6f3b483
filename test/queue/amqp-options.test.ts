/** How queue.amqp settings become connection options; no broker needed. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import { queueArguments } from "../../src/queue/amqp/arguments.js";
import { amqpSocketOptions } from "../../src/queue/amqp/backend.js";
import { openConfiguredQueue } from "../../src/queue/from-config.js";
import { silentLogger } from "../../src/util/logger.js";

describe("amqp connection options", () => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-amqp-options-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("always turn Nagle off; a client certificate and key log in with SASL EXTERNAL", () => {
    const plain = amqpSocketOptions(undefined);
    assert.equal(plain.noDelay, true);
    assert.equal(plain.credentials, undefined, "user and password come from the URL");
    const withCert = amqpSocketOptions({ ca: "CA PEM", cert: "CERT PEM", key: "KEY PEM" });
    assert.equal(withCert.noDelay, true);
    assert.deepEqual([withCert.ca, withCert.cert, withCert.key], ["CA PEM", "CERT PEM", "KEY PEM"]);
    assert.equal(withCert.credentials?.mechanism, "EXTERNAL");
    const caOnly = amqpSocketOptions({ ca: "CA PEM" });
    assert.equal(caOnly.credentials, undefined);
  });

  test("queue arguments are those of Cockpit's bots", () => {
    assert.deepEqual(queueArguments("webhook"), {});
    assert.deepEqual(queueArguments("task"), { "x-max-priority": 9 });
    assert.deepEqual(queueArguments("statistics"), { "x-max-priority": 9, "x-single-active-consumer": true });
  });

  test("driver amqp without queue.amqp, or a cert without its key, is a configuration error", async () => {
    const noUrl = parseConfig({ queue: { driver: "amqp" } }, "hangar.yaml", dir);
    assert.throws(
      () => openConfiguredQueue(noUrl, {}, silentLogger()),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /queue\.amqp\.url/);
        return true;
      },
    );
    writeFileSync(join(dir, "client.pem"), "CERT PEM\n");
    const certOnly = parseConfig(
      {
        queue: {
          driver: "amqp",
          amqp: { url: "amqps://broker:5671", tls: { cert: { file: "client.pem" } } },
        },
      },
      "hangar.yaml",
      dir,
    );
    assert.throws(() => openConfiguredQueue(certOnly, {}, silentLogger()), /cert and key go together/);
    const missingFile = parseConfig(
      { queue: { driver: "amqp", amqp: { url: "amqps://broker:5671", tls: { ca: { file: "nope.pem" } } } } },
      "hangar.yaml",
      dir,
    );
    assert.throws(() => openConfiguredQueue(missingFile, {}, silentLogger()), /queue\.amqp\.tls\.ca/);
  });
});
