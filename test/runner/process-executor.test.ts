import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ProcessExecutor } from "../../src/runner/process-executor.js";
import { BUSYBOX } from "../fixtures/container-image.js";
import { hasCommand, readable, requireTools } from "../fixtures/tools.js";
import { executorConformance } from "./executor-conformance.js";

/** Skip reason when the process sandbox's tools are missing (throws in CI). */
export function processSandboxToolsMissing(): string | false {
  return requireTools("the process sandbox", [
    ...["bwrap", "setpriv", "prlimit"].map((tool) => (hasCommand(tool) ? undefined : tool)),
    readable(BUSYBOX) ? undefined : "busybox (busybox-static)",
  ]);
}

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
