/** Which task queue a context goes to, and which queues a worker with given capabilities consumes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfig, queueLayout, workerQueues } from "../../src/config/index.js";
import { missingCapabilities } from "../../src/runner/worker.js";
import { automaticContexts } from "../../src/scan/testmap.js";

const config = parseConfig(
  {
    projects: {
      "acme/vm": {
        branches: {
          main: [
            "unit",
            { name: "boot", capabilities: ["kvm"] },
            { name: "ui", capabilities: ["kvm", "browser", "kvm"] },
            { name: "secret-boot", internal: true, capabilities: ["kvm"] },
          ],
          _manual: [{ name: "rhel", capabilities: ["internal"] }],
        },
      },
    },
  },
  "test",
  "/",
).config;

test("a context goes to <public|internal>-<capabilities sorted>", () => {
  const queues = Object.fromEntries(
    automaticContexts(config, "acme/vm", "main").map((c) => [c.name, c.queue]),
  );
  assert.deepEqual(queues, {
    unit: "public",
    boot: "public-kvm",
    ui: "public-browser-kvm",
    "secret-boot": "internal-kvm",
  });
});

test("the queue layout declares every queue the test map routes to, for every backend", () => {
  assert.deepEqual(queueLayout(config), {
    webhook: "webhook",
    tasks: ["public", "internal", "public-kvm", "public-browser-kvm", "internal-kvm", "hangar-events"],
    statistics: "statistics",
  });
});

test("a worker consumes the capability queues it has every capability for", () => {
  assert.deepEqual(workerQueues(config, []), ["public"]);
  assert.deepEqual(workerQueues(config, ["kvm"]), ["public", "public-kvm"]);
  assert.deepEqual(workerQueues(config, ["browser", "kvm"]), ["public", "public-kvm", "public-browser-kvm"]);
  assert.deepEqual(workerQueues(config, ["internal", "kvm"]), [
    "public",
    "internal",
    "public-kvm",
    "internal-kvm",
  ]);
});

test("explicit worker.queues are the base queues; capability queues are added to them", () => {
  const internalOnly = parseConfig(
    { projects: config.projects, worker: { queues: ["internal"] } },
    "test",
    "/",
  ).config;
  assert.deepEqual(workerQueues(internalOnly, ["kvm"]), ["internal", "internal-kvm"]);
});

test("a job's missing capabilities; internal only picks a queue", () => {
  const job = {
    repo: "a/b",
    sha: "0".repeat(40),
    context: "x",
    capabilities: ["internal", "kvm", "browser"],
  };
  assert.deepEqual(missingCapabilities(job, ["kvm"]), ["browser"]);
  assert.deepEqual(missingCapabilities(job, ["kvm", "browser"]), []);
  const { capabilities: _needs, ...plain } = job;
  assert.deepEqual(missingCapabilities(plain, []), []);
});
