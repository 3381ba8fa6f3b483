/**
 * The whole PR flow through a private RabbitMQ node that accepts only AMQP
 * over TLS with a client certificate, all certificates made by
 * `hangar secrets generate`; clients without a valid certificate are refused.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { SECRET_FILES } from "../../src/cli/commands/secrets.js";
import { type ConfigInput, parseConfig } from "../../src/config/index.js";
import { openConfiguredQueue } from "../../src/queue/from-config.js";
import { silentLogger } from "../../src/util/logger.js";
import { hangar } from "../cli/fixtures/run.js";
import { rabbitNodeUnavailable } from "../queue/fixtures/rabbit-node.js";
import { cleanRun, type Deployment, isFinal, sh, startDeployment, waitForStatuses } from "./harness.js";
import { nodeProcesses, startTlsNode, type TlsNode } from "./tls-node.js";

const CLIENT = "hangar";
const run = promisify(execFile);

async function generateSecrets(dir: string, ...args: string[]): Promise<(name: string) => string> {
  const result = await hangar(["secrets", "generate", dir, ...args]);
  assert.equal(result.code, 0, result.stderr);
  return (name) => join(dir, name);
}

/** queue config for the node's TLS port, with whichever certificate files are given. */
function amqpQueue(port: number, tls: { ca: string; cert?: string; key?: string }): ConfigInput["queue"] {
  return {
    driver: "amqp",
    amqp: {
      url: `amqps://127.0.0.1:${port}`,
      tls: {
        ca: { file: tls.ca },
        ...(tls.cert ? { cert: { file: tls.cert } } : {}),
        ...(tls.key ? { key: { file: tls.key } } : {}),
      },
    },
  };
}

async function openWith(queue: ConfigInput["queue"]) {
  const backend = await openConfiguredQueue(parseConfig({ queue }, "test", "/"), {}, silentLogger());
  await backend.close();
}

const unavailable = rabbitNodeUnavailable();

describe("AMQP over TLS with client certificates", {
  skip: process.env.CI === "true" ? false : (unavailable ?? false),
}, () => {
  let dir: string;
  let secret: (name: string) => string;
  let tls: TlsNode | undefined;
  let deployment: Deployment | undefined;

  before(async () => {
    if (unavailable !== undefined) throw new Error(`CI=true and ${unavailable}`);
    dir = mkdtempSync(join(tmpdir(), "hangar-amqp-tls-"));
    secret = await generateSecrets(join(dir, "secrets"), "--client-name", CLIENT);
    tls = await startTlsNode(
      {
        caCert: secret(SECRET_FILES.caCert),
        serverCert: secret(SECRET_FILES.serverCert),
        serverKey: secret(SECRET_FILES.serverKey),
      },
      CLIENT,
    );
    deployment = await startDeployment({
      queue: amqpQueue(tls.tlsPort, {
        ca: secret(SECRET_FILES.caCert),
        cert: secret(SECRET_FILES.clientCert),
        key: secret(SECRET_FILES.clientKey),
      }),
      projects: { "acme/secure": { branches: { main: ["debian/unit"] } } },
      trust: { users: ["alice"] },
    });
  });
  after(async () => {
    await deployment?.stop();
    await tls?.node.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a pull request goes through the TLS broker, logged in by its client certificate", async () => {
    assert.ok(deployment && tls);
    await deployment.emulator.createRepo({
      repo: "acme/secure",
      files: { "README.md": "x\n", ".hangar/run": sh('echo "tested over TLS"') },
    });
    const pull = await deployment.emulator.openPull({
      repo: "acme/secure",
      author: "alice",
      files: { a: "1\n" },
    });
    assert.equal(pull.delivery?.status, 202);
    const statuses = await waitForStatuses(
      deployment,
      "acme/secure",
      pull.sha,
      "debian/unit",
      isFinal,
      60_000,
    );
    assert.deepEqual(
      statuses.map((s) => [s.state, s.description]),
      cleanRun(),
    );
    const log = await (await fetch(new URL("log", statuses[2]?.target_url ?? ""))).text();
    assert.match(log, /tested over TLS/);
    const connections = (
      await tls.node.ctl("list_connections", "user", "auth_mechanism", "ssl", "--no-table-headers", "--quiet")
    )
      .trim()
      .split("\n")
      .map((line) => line.split("\t"));
    assert.ok(connections.length > 0, "hangar serve is connected");
    for (const connection of connections) assert.deepEqual(connection, [CLIENT, "EXTERNAL", "true"]);
  });

  test("hangar queue inspect reads the queues through the same TLS settings", async () => {
    assert.ok(deployment);
    const result = await hangar(["queue", "inspect", "--config", deployment.configFile]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^webhook: 0 ready, \? unacked$/m);
    assert.match(result.stdout, /^public: 0 ready, \? unacked$/m);
  });

  test("a client without a certificate is refused", async () => {
    assert.ok(tls);
    await assert.rejects(
      openWith(amqpQueue(tls.tlsPort, { ca: secret(SECRET_FILES.caCert) })),
      /cannot connect to RabbitMQ .*certificate required/s,
    );
  });

  test("a client certificate signed by another CA is refused", async () => {
    assert.ok(tls);
    const other = await generateSecrets(join(dir, "other"), "--client-name", CLIENT);
    await assert.rejects(
      openWith(
        amqpQueue(tls.tlsPort, {
          ca: secret(SECRET_FILES.caCert),
          cert: other(SECRET_FILES.clientCert),
          key: other(SECRET_FILES.clientKey),
        }),
      ),
      /cannot connect to RabbitMQ .*unknown ca/s,
    );
  });

  test("a client that does not trust the server's CA refuses the server", async () => {
    assert.ok(tls);
    const other = await generateSecrets(join(dir, "untrusting"));
    await assert.rejects(
      openWith(
        amqpQueue(tls.tlsPort, {
          ca: other(SECRET_FILES.caCert),
          cert: secret(SECRET_FILES.clientCert),
          key: secret(SECRET_FILES.clientKey),
        }),
      ),
      /cannot connect to RabbitMQ .*(self.signed|unable to verify|local issuer)/is,
    );
  });

  test("stopping leaves no node process and no files behind", async () => {
    assert.ok(deployment && tls);
    const { name, dir: nodeDir } = tls.node;
    assert.ok(nodeProcesses(name).length > 0, "the node runs before it is stopped");
    await deployment.stop();
    deployment = undefined;
    await tls.node.destroy();
    tls = undefined;
    assert.deepEqual(nodeProcesses(name), []);
    assert.equal(existsSync(nodeDir), false);
    await assert.rejects(
      run("rabbitmqctl", ["-n", name, "status"], { timeout: 60_000 }),
      "the node does not answer",
    );
  });
});
