/**
 * `hangar local` and the manifests agree on every config key: each key of the
 * ConfigMaps' hangar.yaml and rabbitmq.conf reaches the local configuration
 * unchanged, unless it is one `hangar local` sets itself (LOCAL_KEYS), a
 * secret or state path it moves into its workspace, or an entry it adds.
 * A changed key in a copy of the manifests shows up in `hangar local`.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseDocument } from "yaml";
import { parseConfig } from "../../src/config/index.js";
import { defaultManifestsDir, readDeploymentFiles } from "../../src/deploy/index.js";
import { parseRabbitConf } from "../../src/deploy/rabbitmq-conf.js";
import {
  type ConfigTree,
  EXTENDED_KEYS,
  LOCAL_KEYS,
  type LocalEndpoints,
  localConfigFrom,
  localPath,
  parseProductionConfig,
} from "../../src/local/deployment-config.js";
import { localRabbitConf, RABBIT_LOCAL_KEYS } from "../../src/local/rabbit-config.js";
import { runCli } from "../local/cli.js";

const EMULATOR: LocalEndpoints = {
  forge: { api: "http://127.0.0.1:1234", clone: "/tmp/git" },
  queue: { driver: "amqp", url: "amqps://localhost:5999" },
  projects: { "demo/repo": { branches: { main: ["unit"] } } },
  trustedUsers: ["someone"],
};

/** Every leaf of a YAML tree as `dotted.path` -> value (list items by index). */
function leaves(value: unknown, prefix = ""): Map<string, unknown> {
  const found = new Map<string, unknown>();
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      for (const [path, leaf] of leaves(item, prefix ? `${prefix}.${key}` : key)) found.set(path, leaf);
    }
  } else found.set(prefix, value);
  return found;
}

const under = (path: string, keys: readonly string[]) =>
  keys.some((key) => path === key || path.startsWith(`${key}.`));

/** The keys where production and local differ without a documented reason. */
function disagreements(production: ConfigTree, localConfig: ConfigTree): string[] {
  const local = leaves(localConfig);
  const problems: string[] = [];
  for (const [path, value] of leaves(production)) {
    if (under(path, LOCAL_KEYS)) continue;
    const expected = typeof value === "string" && !path.includes(".command.") ? localPath(value) : value;
    if (under(path, EXTENDED_KEYS) && !local.has(path)) {
      problems.push(`${path}: production's entry is missing locally`);
    } else if (local.get(path) !== expected && !(under(path, EXTENDED_KEYS) && local.has(path))) {
      problems.push(`${path}: production ${JSON.stringify(value)}, local ${JSON.stringify(local.get(path))}`);
    }
  }
  const productionLeaves = leaves(production);
  for (const path of local.keys()) {
    if (!productionLeaves.has(path) && !under(path, [...LOCAL_KEYS, ...EXTENDED_KEYS]))
      problems.push(`${path}: only local`);
  }
  return problems;
}

describe("hangar local and the manifests", () => {
  const files = readDeploymentFiles();
  const production = parseProductionConfig(files.hangarYaml);

  test("agree on every key of hangar.yaml", () => {
    assert.deepEqual(disagreements(production, localConfigFrom(production, EMULATOR)), []);
    const sqlite = localConfigFrom(production, { ...EMULATOR, queue: { driver: "sqlite" } });
    assert.deepEqual(
      disagreements(production, sqlite).filter((problem) => !problem.startsWith("queue.amqp.")),
      [],
    );
    assert.ok(leaves(production).size > 30, "the comparison covers the whole file");
  });

  test("the local configuration is valid and differs only where it must", () => {
    const local = localConfigFrom(production, EMULATOR);
    const loaded = parseConfig(local, "local", "/tmp/ws");
    assert.equal(loaded.config.webhook.listen, "127.0.0.1:0");
    assert.equal(loaded.config.forge.github.api, "http://127.0.0.1:1234");
    assert.equal(loaded.config.store.driver, "fs");
    assert.deepEqual(loaded.config.webhook.secret, { file: "secrets/webhook/webhook-secret" });
    assert.equal(loaded.config.queue.amqp?.url, "amqps://localhost:5999");
    assert.ok(loaded.config.projects["hangar-ci/hangar"], "production's test map stays");
    assert.ok(loaded.config.projects["demo/repo"], "the local entry is added");
  });

  test("a key local mode dropped, changed or added is noticed", () => {
    const tampered = localConfigFrom(production, EMULATOR);
    const worker = tampered.worker as ConfigTree;
    worker.concurrency = Number(worker.concurrency) + 1;
    delete worker.defaultTimeout;
    (tampered.log as ConfigTree).extra = true;
    assert.deepEqual(
      disagreements(production, tampered)
        .map((problem) => problem.split(":")[0])
        .sort(),
      ["log.extra", "worker.concurrency", "worker.defaultTimeout"],
    );
  });

  test("a key added to the ConfigMap reaches local mode without code changes", () => {
    const changed = structuredClone(production);
    (changed.webhook as ConfigTree).maxBodyBytes = 1234;
    (changed.queue as ConfigTree).names = {
      ...((changed.queue as ConfigTree).names as ConfigTree),
      internal: "rhel",
    };
    const local = localConfigFrom(changed, EMULATOR);
    assert.deepEqual(disagreements(changed, local), []);
    const loaded = parseConfig(local, "local", "/tmp/ws");
    assert.equal(loaded.config.webhook.maxBodyBytes, 1234);
    assert.equal(loaded.config.queue.names.internal, "rhel");
  });

  test("agree on every key of rabbitmq.conf", () => {
    const productionConf = parseRabbitConf(files.rabbitmqConf);
    const local = localRabbitConf(files.rabbitmqConf, 5999, "/tmp/node");
    assert.deepEqual([...local.keys()].sort(), [...productionConf.keys()].sort());
    for (const [key, value] of productionConf) {
      if ((RABBIT_LOCAL_KEYS as readonly string[]).includes(key)) continue;
      const expected = value.startsWith("/etc/") ? join("/tmp/node", value.split("/").pop() ?? "") : value;
      assert.equal(local.get(key), expected, key);
    }
    assert.equal(local.get("listeners.ssl.default"), "127.0.0.1:5999");
    assert.equal(local.get("auth_mechanisms.1"), "EXTERNAL");
  });

  describe("a change in a copy of the manifests", () => {
    const copy = () => {
      const dir = mkdtempSync(join(tmpdir(), "hangar-manifests-"));
      cpSync(defaultManifestsDir(), dir, { recursive: true });
      return dir;
    };
    /** Set one key of hangar.yaml inside configmap-hangar.yaml, keeping the rest of the file. */
    const setKey = (dir: string, path: string[], value: unknown) => {
      const file = join(dir, "configmap-hangar.yaml");
      const doc = parseDocument(readFileSync(file, "utf8"));
      const inner = parseDocument(String(doc.getIn(["data", "hangar.yaml"])));
      inner.setIn(path, value);
      doc.setIn(["data", "hangar.yaml"], inner.toString());
      writeFileSync(file, doc.toString());
    };

    test("reaches hangar local's configuration and its queues", async () => {
      const dir = copy();
      try {
        setKey(dir, ["queue", "names", "public"], "renamed-public");
        setKey(dir, ["worker", "defaultTimeout"], 77);
        const result = await runCli(["local", "--selftest", "--keep", "--manifests", dir]);
        assert.equal(result.code, 0, result.output);
        const workspace = /workspace kept: (\S+)/.exec(result.output)?.[1];
        assert.ok(workspace, result.output);
        try {
          const config = readFileSync(join(workspace, "hangar.yaml"), "utf8");
          assert.match(config, /public: renamed-public/);
          assert.match(config, /defaultTimeout: 77/);
        } finally {
          rmSync(workspace, { recursive: true, force: true });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("that is invalid stops hangar local, naming the key", async () => {
      const dir = copy();
      try {
        setKey(dir, ["worker", "concurrency"], 0);
        const result = await runCli(["local", "--selftest", "--manifests", dir]);
        assert.equal(result.code, 2, result.output);
        assert.match(result.output, /worker\.concurrency/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
