/**
 * `hangar local --selftest`: on the embedded queue, on a private RabbitMQ
 * node (which must leave no process behind), against a "real" pull request
 * (an emulator standing in for api.github.com, named in the ConfigMap), and
 * without RabbitMQ installed.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseDocument } from "yaml";
import { defaultManifestsDir } from "../../src/deploy/index.js";
import { startEmulator } from "../../src/emulator/index.js";
import { processesWithEnv, rabbitUnavailable } from "../../src/local/rabbit-node.js";
import { runCli } from "./cli.js";

/** Without CI=true a missing RabbitMQ skips; in CI it must fail. */
export const rabbitSkip = (): string | false => {
  const missing = rabbitUnavailable();
  return missing !== undefined && process.env.CI !== "true" ? missing : false;
};

function checkPassed(output: string): void {
  for (const check of ["queue round trip", "store upload/download", "signed webhook delivery → statuses"]) {
    assert.match(output, new RegExp(`PASS  ${check.replace("/", "\\/")} `), check);
  }
  assert.match(output, /selftest summary: 3 of 3 checks passed/);
}

function workspaceOf(output: string): string {
  const workspace = /workspace (\/\S+)/.exec(output)?.[1];
  assert.ok(workspace, output);
  return workspace;
}

describe("hangar local --selftest", () => {
  test("passes on the embedded queue and removes its workspace", async () => {
    const result = await runCli(["local", "--selftest"]);
    assert.equal(result.code, 0, result.output);
    checkPassed(result.output);
    assert.match(result.output, /PASS {2}queue round trip .*: sqlite:/);
    assert.equal(existsSync(workspaceOf(result.output)), false);
  });

  test("--rabbitmq passes on a private node and leaves no process behind", {
    skip: rabbitSkip(),
  }, async () => {
    const result = await runCli(["local", "--selftest", "--rabbitmq"]);
    assert.equal(result.code, 0, result.output);
    checkPassed(result.output);
    assert.match(result.output, /PASS {2}queue round trip .*: amqp:/);
    const node = /RabbitMQ\s+amqps:\/\/localhost:\d+ \(node (\S+)\)/.exec(result.output)?.[1];
    assert.ok(node, result.output);
    assert.deepEqual(processesWithEnv("RABBITMQ_NODENAME", node), [], "no process of the node is left");
    assert.equal(existsSync(workspaceOf(result.output)), false);
  });

  test("--rabbitmq without RabbitMQ installed says how to install it", async () => {
    const result = await runCli(["local", "--selftest", "--rabbitmq"], {
      env: { HANGAR_RABBITMQ_DIR: join(tmpdir(), "no-rabbitmq-here") },
    });
    assert.equal(result.code, 2, result.output);
    assert.match(result.output, /apt install rabbitmq-server/);
    assert.doesNotMatch(result.output, /workspace/, "nothing was started");
  });

  test("--github-token, --repo, --pr post to the pull request the ConfigMap's GitHub has", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hangar-realpr-"));
    const token = randomBytes(16).toString("hex");
    const github = await startEmulator({ dir: join(dir, "github"), token });
    try {
      await github.createRepo({ repo: "octo/project", files: { "README.md": "hello\n" } });
      const pull = await github.openPull({
        repo: "octo/project",
        author: "contributor",
        files: { "a.txt": "a\n" },
        deliver: false,
      });
      // The deployment, pointed at this stand-in for api.github.com and github.com.
      const manifests = join(dir, "manifests");
      cpSync(defaultManifestsDir(), manifests, { recursive: true });
      const file = join(manifests, "configmap-hangar.yaml");
      const doc = parseDocument(readFileSync(file, "utf8"));
      const config = parseDocument(String(doc.getIn(["data", "hangar.yaml"])));
      config.setIn(["forge", "github", "api"], github.url);
      config.setIn(["forge", "github", "clone"], github.cloneBase);
      doc.setIn(["data", "hangar.yaml"], config.toString());
      writeFileSync(file, doc.toString());
      const tokenFile = join(dir, "token");
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      const args = [
        "local",
        "--selftest",
        "--manifests",
        manifests,
        "--github-token",
        tokenFile,
        "--repo",
        "octo/project",
        "--pr",
        String(pull.number),
      ];

      const first = await runCli(args);
      assert.equal(first.code, 0, first.output);
      checkPassed(first.output);
      assert.doesNotMatch(first.output, /GitHub emulator/, "hangar local started no emulator of its own");
      assert.doesNotMatch(first.output, new RegExp(token), "the token is never printed");
      // A second run on the same commit: the context already has its result.
      const second = await runCli(args);
      assert.equal(second.code, 0, second.output);
      assert.match(second.output, /already ended in success on this commit; setting it back to pending/);
      checkPassed(second.output);

      const statuses = (await github.statuses("octo/project", pull.sha)).filter(
        (s) => s.context === "hangar/selftest",
      );
      assert.deepEqual(
        statuses.map((s) => s.description),
        [
          "Not yet tested",
          "In progress [local-worker]",
          "Success [local-worker]",
          "Not yet tested",
          "Not yet tested",
          "In progress [local-worker]",
          "Success [local-worker]",
        ],
      );
    } finally {
      await github.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("refuses half a real pull request", async () => {
    const result = await runCli(["local", "--selftest", "--repo", "octo/project"]);
    assert.equal(result.code, 2);
    assert.match(result.output, /--github-token, --repo and --pr go together/);
  });
});
