/**
 * The red-team catalogue in the test suite: every attack, on both executors,
 * through `hangar serve` and the emulator; any outcome but "contained" fails.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { containerToolsMissing } from "../fixtures/container-image.js";
import { hasCommand, requireTools } from "../fixtures/tools.js";
import { ATTACKS } from "./attacks.js";
import { type ExecutorName, fireAll, openRange } from "./range.js";
import { contained, table } from "./report.js";

const sandboxMissing = requireTools("the red-team suite", [
  hasCommand("bwrap") ? undefined : "bwrap (bubblewrap)",
  hasCommand("busybox") ? undefined : "busybox (busybox-static)",
]);

function catalogue(executor: ExecutorName, skip: string | false) {
  test(`every attack is contained on the ${executor} executor`, { skip, timeout: 600_000 }, async () => {
    const range = await openRange(executor);
    try {
      const findings = await fireAll(range, ATTACKS);
      const failed = findings.filter((finding) => !contained(finding));
      assert.ok(findings.length >= 25, `the catalogue holds ${findings.length} attacks`);
      assert.deepEqual(failed, [], table(findings));
    } finally {
      await range.close();
    }
  });
}

describe("red team: an approved stranger's PR gets nothing of the worker", () => {
  catalogue("process", sandboxMissing);
  catalogue("container", sandboxMissing || containerToolsMissing());
});
