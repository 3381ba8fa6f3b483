import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { ExecSpec } from "../../src/runner/executor.js";
import { ProcessExecutor } from "../../src/runner/process-executor.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-exec-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function spec(script: string, extra: Partial<ExecSpec> = {}): ExecSpec & { output: () => string } {
  const chunks: Buffer[] = [];
  return {
    argv: ["/bin/sh", "-c", script],
    checkout: dir,
    attachments: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GREETING: "hello" },
    timeoutMs: 30_000,
    signal: new AbortController().signal,
    onOutput: (chunk) => chunks.push(chunk),
    output: () => Buffer.concat(chunks).toString(),
    ...extra,
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("process executor", () => {
  const executor = new ProcessExecutor();

  test("streams stdout and stderr and reports the exit code", async () => {
    const s = spec('echo "$GREETING out"; echo err >&2; exit 3');
    const outcome = await executor.run(s);
    assert.deepEqual(outcome, { kind: "exited", code: 3 });
    assert.match(s.output(), /hello out/);
    assert.match(s.output(), /err/);
  });

  test("sees only the environment it is given", async () => {
    process.env.HANGAR_TEST_LEAK = "leaked";
    const s = spec('echo "leak=[$HANGAR_TEST_LEAK]"');
    await executor.run(s);
    delete process.env.HANGAR_TEST_LEAK;
    assert.match(s.output(), /leak=\[\]/);
  });

  test("a timeout kills the whole process group, background children included", async () => {
    const pidFile = join(dir, "bg.pid");
    const s = spec(`sleep 60 & echo $! > ${pidFile}; echo started; wait`, { timeoutMs: 500 });
    const outcome = await executor.run(s);
    assert.deepEqual(outcome, { kind: "timeout" });
    const pid = Number(readFileSync(pidFile, "utf8"));
    const deadline = Date.now() + 5000;
    while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(processAlive(pid), false, "the background sleep must be gone");
  });

  test("an abort cancels the job", async () => {
    const controller = new AbortController();
    const s = spec("echo ready; sleep 60", { signal: controller.signal });
    const running = executor.run(s);
    setTimeout(() => controller.abort(), 200);
    assert.deepEqual(await running, { kind: "cancelled" });
  });

  test("processes left in the background after a clean exit are killed", async () => {
    const pidFile = join(dir, "stray.pid");
    const s = spec(`(sleep 60 >/dev/null 2>&1 & echo $! > ${pidFile}); echo done`);
    assert.deepEqual(await executor.run(s), { kind: "exited", code: 0 });
    const pid = Number(readFileSync(pidFile, "utf8"));
    const deadline = Date.now() + 5000;
    while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(processAlive(pid), false);
  });

  test("a command that does not exist is not-started, not a test failure", async () => {
    const outcome = await executor.run({ ...spec(""), argv: [join(dir, "no-such-program")] });
    assert.equal(outcome.kind, "not-started");
  });

  test("reports the process group it started", async () => {
    let group = 0;
    await executor.run(spec("true", { onStarted: (pgid) => (group = pgid) }));
    assert.ok(group > 0);
  });
});
