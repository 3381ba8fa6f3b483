import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import {
  ContainerExecutor,
  type ContainerExecutorOptions,
  NAME_PREFIX,
} from "../../src/runner/container-executor.js";
import type { ExecSpec } from "../../src/runner/executor.js";
import {
  containerToolsMissing,
  ensureTestImage,
  hangarContainers,
  PODMAN_RUN_ARGS,
  TEST_IMAGE,
} from "../fixtures/container-image.js";
import { executorConformance } from "./executor-conformance.js";

const run = promisify(execFile);
const MISSING_IMAGE = "localhost/hangar-test:no-such-image";

executorConformance({
  name: "container (podman)",
  skip: containerToolsMissing(),
  setup: async () => {
    await ensureTestImage();
  },
  executor: (sandbox) => new ContainerExecutor({ command: ["podman"], runArgs: PODMAN_RUN_ARGS, sandbox }),
  seesSystemPaths: false,
  namesMemoryKills: false,
  base: { image: TEST_IMAGE },
  unstartable: { image: MISSING_IMAGE },
  unstartableJob: { container: MISSING_IMAGE },
  leftovers: hangarContainers,
});

describe("container executor", { skip: containerToolsMissing() }, () => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-container-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  before(() => ensureTestImage());

  function spec(script: string, extra: Partial<ExecSpec> = {}) {
    const chunks: Buffer[] = [];
    const value: ExecSpec = {
      argv: ["/bin/sh", "-c", script],
      checkout: dir,
      attachments: dir,
      jobDir: dir,
      network: false,
      env: {},
      timeoutMs: 120_000,
      signal: new AbortController().signal,
      onOutput: (chunk) => chunks.push(chunk),
      ...extra,
    };
    return { spec: value, output: () => Buffer.concat(chunks).toString() };
  }

  const executor = (options: Partial<ContainerExecutorOptions> = {}) =>
    new ContainerExecutor({ command: ["podman"], runArgs: PODMAN_RUN_ARGS, ...options });

  test("uses worker.container.defaultImage when the job names no image", async () => {
    const { spec: s, output } = spec("echo in-default-image");
    assert.deepEqual(await executor({ defaultImage: TEST_IMAGE }).run(s), { kind: "exited", code: 0 });
    assert.equal(output(), "in-default-image\n");
  });

  test("without any image the job is not-started, and says where an image comes from", async () => {
    const outcome = await executor().run(spec("true").spec);
    assert.equal(outcome.kind, "not-started");
    assert.match(outcome.kind === "not-started" ? outcome.reason : "", /\.hangar\/container.*defaultImage/);
  });

  test("containers of a dead worker on this host are removed", async () => {
    const dead = spawn("true");
    const deadPid = await new Promise<number>((resolve) =>
      dead.on("exit", () => resolve(dead.pid as number)),
    );
    const name = `${NAME_PREFIX}${deadPid}-orphan`;
    await run("podman", [
      "run",
      "--detach",
      "--name",
      name,
      "--label",
      `hangar.owner-host=${hostname()}`,
      ...PODMAN_RUN_ARGS,
      TEST_IMAGE,
      "sleep",
      "600",
    ]);
    const removed = await executor().reapOrphans();
    assert.ok(removed.includes(name), `reaped ${removed.join(", ")}`);
    assert.deepEqual(await hangarContainers(), []);
  });
});
