import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  ConfigError,
  loadConfigFile,
  parseConfigText,
  resolveSecret,
  SecretError,
} from "../../src/config/index.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(text: string): string[] {
  try {
    parseConfigText(text, "test.yaml", dir);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return [...error.problems];
  }
  assert.fail("expected the configuration to be refused");
}

describe("configuration", () => {
  test("an empty file gives the embedded defaults", () => {
    const { config } = parseConfigText("", "empty.yaml", dir);
    assert.equal(config.queue.driver, "sqlite");
    assert.equal(config.store.driver, "fs");
    assert.equal(config.webhook.maxBodyBytes, 25 * 1024 * 1024);
    assert.deepEqual(config.queue.names, {
      webhook: "webhook",
      public: "public",
      internal: "internal",
      statistics: "statistics",
      events: "hangar-events",
    });
  });

  test("a full file keeps every documented key", () => {
    const { config } = parseConfigText(
      [
        "webhook: { listen: '0.0.0.0:9000', secret: { file: s }, maxBodyBytes: 1000 }",
        "queue: { driver: sqlite, sqlite: { path: q.db }, names: { internal: rhel } }",
        "forge: { github: { api: 'http://127.0.0.1:1/', clone: repos, token: { env: T }, post: false } }",
        "store: { driver: fs, fs: { dir: st, listen: '127.0.0.1:0' }, publicUrl: 'https://logs.example/' }",
        "worker: { name: w1, queues: [public, rhel], concurrency: 3, executor: process, secrets: { github-token: lit } }",
        "projects:",
        "  o/r: { branches: { main: [a/b, { name: c, internal: true, priority: 7 }], _manual: [m] } }",
        "trust: { users: [alice], orgs: [acme] }",
      ].join("\n"),
      "full.yaml",
      dir,
    );
    assert.equal(config.queue.names.internal, "rhel");
    assert.equal(config.forge.github.post, false);
    assert.deepEqual(config.worker.queues, ["public", "rhel"]);
    assert.equal(config.projects["o/r"]?.branches._manual?.[0], "m");
  });

  test("errors name the bad key's path and what is expected", () => {
    const problems = problemsOf("queue: { driver: redis }\nworker: { concurrency: many }\n");
    assert.ok(
      problems.some((p) => p.startsWith("queue.driver:") && p.includes("sqlite")),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => p.startsWith("worker.concurrency:") && p.includes("number")),
      problems.join("\n"),
    );
  });

  test("unknown keys are refused, so a typo does not pass silently", () => {
    const problems = problemsOf("webhook: { lisen: '1.2.3.4:5' }\n");
    assert.ok(
      problems.some((p) => p.startsWith("webhook:") && p.includes("lisen")),
      problems.join("\n"),
    );
  });

  test("a bad listen address and a bad project name are named", () => {
    const problems = problemsOf("webhook: { listen: nowhere }\nprojects: { justaname: {} }\n");
    assert.ok(problems.some((p) => p.startsWith("webhook.listen:") && p.includes("host:port")));
    assert.ok(problems.some((p) => p.startsWith("projects.justaname")));
  });

  test("broken YAML is refused with a line number", () => {
    const problems = problemsOf("webhook:\n  listen: [unclosed\n");
    assert.equal(problems.length > 0, true);
    assert.match(problems.join("\n"), /line \d+/);
  });

  test("a missing file is a ConfigError naming it", () => {
    assert.throws(
      () => loadConfigFile(join(dir, "nope.yaml")),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /nope\.yaml.*ENOENT/s);
        return true;
      },
    );
  });
});

describe("secrets", () => {
  test("literal, file (trailing newline dropped, relative to the config) and env", () => {
    writeFileSync(join(dir, "token"), "s3cret\n");
    const context = { env: { TOKEN: "from-env" }, baseDir: dir };
    assert.equal(resolveSecret("lit", "k", context), "lit");
    assert.equal(resolveSecret({ file: "token" }, "k", context), "s3cret");
    assert.equal(resolveSecret({ env: "TOKEN" }, "k", context), "from-env");
  });

  test("a missing secret names the key and where it was looked for, not a value", () => {
    const context = { env: {}, baseDir: dir };
    assert.throws(
      () => resolveSecret({ env: "NOPE" }, "forge.github.token", context),
      (error: unknown) => {
        assert.ok(error instanceof SecretError);
        assert.match(error.message, /forge\.github\.token: environment variable NOPE is not set/);
        return true;
      },
    );
    assert.throws(
      () => resolveSecret({ file: "missing" }, "webhook.secret", context),
      /webhook\.secret: cannot read secret file .*missing \(ENOENT\)/,
    );
  });
});
