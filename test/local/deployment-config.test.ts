import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type LocalEndpoints,
  localConfigFrom,
  localPath,
  secretFiles,
  stateDirs,
} from "../../src/local/deployment-config.js";

const endpoints: LocalEndpoints = {
  forge: "production",
  queue: { driver: "amqp", url: "amqps://localhost:6001" },
  projects: {},
  trustedUsers: [],
};

describe("localConfigFrom", () => {
  test("keeps the vhost and query of production's AMQP URL, and drops its credentials", () => {
    const local = localConfigFrom(
      { queue: { driver: "amqp", amqp: { url: "amqps://user:pw@rabbit.example.org:443/ci?heartbeat=15" } } },
      endpoints,
    );
    assert.equal(
      (local.queue as { amqp: { url: string } }).amqp.url,
      "amqps://localhost:6001/ci?heartbeat=15",
    );
  });

  test("moves secrets and state into the workspace, but not a job's command", () => {
    const production = {
      worker: {
        workDir: "/var/tmp/hangar",
        secrets: { token: { file: "/run/secrets/hangar/github/github-token" } },
      },
      projects: { "a/b": { branches: { main: [{ name: "x", command: ["/var/lib/run-me"] }] } } },
    };
    const local = localConfigFrom(production, {
      ...endpoints,
      forge: { api: "http://127.0.0.1:1", clone: "/git" },
    });
    assert.equal((local.worker as { workDir: string }).workDir, "state/var/tmp/hangar");
    assert.deepEqual(secretFiles(local), ["secrets/github/github-token"]);
    assert.deepEqual(stateDirs(local), ["state/var/tmp"]);
    assert.deepEqual(
      (local.projects as { "a/b": { branches: { main: { command: string[] }[] } } })["a/b"].branches.main[0]
        ?.command,
      ["/var/lib/run-me"],
    );
  });

  test("keeps production's GitHub for a real pull request, and uses SQLite without --rabbitmq", () => {
    const production = {
      forge: { github: { api: "https://api.github.com", clone: "https://github.com" } },
      queue: { driver: "amqp", amqp: { url: "amqps://x:1" } },
    };
    const local = localConfigFrom(production, { ...endpoints, queue: { driver: "sqlite" } });
    assert.deepEqual(local.forge, production.forge);
    assert.deepEqual(local.queue, { driver: "sqlite", sqlite: { path: "queue.sqlite" } });
  });

  test("localPath leaves other paths alone", () => {
    assert.equal(localPath("/etc/hangar/hangar.yaml"), "/etc/hangar/hangar.yaml");
    assert.equal(localPath("relative/dir"), "relative/dir");
    assert.equal(localPath("/run/secrets/hangar/s3/access-key-id"), "secrets/s3/access-key-id");
  });
});
