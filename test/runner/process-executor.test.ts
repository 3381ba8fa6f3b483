import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ProcessExecutor } from "../../src/runner/process-executor.js";
import { executorConformance } from "./executor-conformance.js";
import { processSandboxToolsMissing } from "./sandbox-tools.js";

executorConformance({
  name: "process (bwrap)",
  skip: processSandboxToolsMissing(),
  executor: (sandbox) => new ProcessExecutor({ sandbox }),
  seesSystemPaths: true,
  namesMemoryKills: true,
  unstartable: { argv: ["/nonexistent/hangar-no-such-program"] },
  unstartableJob: { command: ["/nonexistent/hangar-no-such-program"] },
  leftovers: async () => [],
});

describe("process executor", () => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-exec-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("reports the process group it started", async () => {
    let group = 0;
    await new ProcessExecutor().run({
      argv: ["/bin/sh", "-c", "true"],
      checkout: dir,
      attachments: dir,
      jobDir: dir,
      network: false,
      env: { PATH: "/usr/bin:/bin" },
      timeoutMs: 30_000,
      signal: new AbortController().signal,
      onStarted: (pgid) => {
        group = pgid;
      },
      onOutput: () => undefined,
    });
    assert.ok(group > 0);
  });
});
