import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { hangar } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-config-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("hangar config check", () => {
  test("a valid file with readable secrets is OK", async () => {
    file("secret", "s3cret-value\n");
    const result = await hangar([
      "config",
      "check",
      file("good.yaml", "webhook: { secret: { file: secret } }\nprojects: { o/r: {} }\n"),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /good\.yaml: OK \(queue sqlite, store fs, 1 project\(s\): o\/r\)/);
    assert.doesNotMatch(result.stdout + result.stderr, /s3cret-value/);
  });

  test("a bad key is named with what is expected; exit code 2", async () => {
    const result = await hangar(["config", "check", file("bad.yaml", "queue:\n  driver: redis\n")]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /bad\.yaml: invalid configuration/);
    assert.match(result.stderr, /queue\.driver: .*"sqlite"\|"amqp"/);
  });

  test("a secret that cannot be read is named by its key", async () => {
    const result = await hangar([
      "config",
      "check",
      file("nosecret.yaml", "forge: { github: { token: { env: HANGAR_NO_SUCH_VAR } } }\n"),
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /forge\.github\.token: environment variable HANGAR_NO_SUCH_VAR is not set/);
  });

  test("a missing file is reported, not a stack trace", async () => {
    const result = await hangar(["config", "check", join(dir, "missing.yaml")]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /missing\.yaml.*cannot read the file: ENOENT/s);
    assert.doesNotMatch(result.stderr, /at .*\.js:\d+/);
  });
});

describe("hangar serve", () => {
  test("refuses to start without webhook.secret, naming the key", async () => {
    const result = await hangar([
      "serve",
      "--config",
      file("nohook.yaml", "store: { fs: { listen: '127.0.0.1:0' } }\nwebhook: { listen: '127.0.0.1:0' }\n"),
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /webhook\.secret: required/);
  });
});
