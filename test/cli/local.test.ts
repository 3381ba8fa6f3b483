import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { hangar } from "./run.js";

test("hangar local --once runs the demo PR through all three phases and exits 0", async () => {
  const result = await hangar(["local", "--once"]);
  assert.equal(result.code, 0, `exit code; stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  for (const context of ["debian/unit", "fedora/integration"]) {
    const lines = result.stdout.split("\n").filter((line) => line.includes(` ${context} `));
    assert.equal(lines.length, 3, `three statuses for ${context}:\n${result.stdout}`);
    assert.match(lines[0] ?? "", /pending\s+Not yet tested\s*$/);
    assert.match(
      lines[1] ?? "",
      /pending\s+In progress \[local-worker\]\s+http:\/\/127\.0\.0\.1:\d+\/.+\/log\.html$/,
    );
    assert.match(lines[2] ?? "", /success\s+Success \[local-worker\]/);
  }
  assert.match(result.stdout, /demo PR passed/);
  const workspace = /workspace (\S+)/.exec(result.stdout)?.[1];
  assert.ok(workspace, "the workspace is named");
  assert.equal(existsSync(workspace), false, "the workspace is removed afterwards");
});

test("hangar local --help says what it does", async () => {
  const result = await hangar(["local", "--help"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /--once/);
  assert.match(result.stdout, /demo pull request/);
});
