/** The JUnit reader: a realistic pytest report, a truncated one, and hostile input. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseJUnit } from "../../src/results/junit.js";
import { count, describeCounts, verdicts } from "../../src/results/summary.js";

const report = readFileSync(
  fileURLToPath(new URL("../../../test/results/fixtures/pytest-junit.xml", import.meta.url)),
  "utf8",
);

describe("JUnit results", () => {
  test("a pytest report: names with their classes, times, failures, errors and skips", () => {
    const parsed = parseJUnit(report);
    assert.deepEqual(
      parsed.tests.map((t) => [t.name, t.result, t.durationMs ?? null]),
      [
        ["tests.test_boot.TestBoot test_kernel_cmdline", "passed", 12_083],
        ["tests.test_boot.TestBoot test_serial_console", "failed", 30_550],
        ["tests.test_network.TestNetwork test_ipv6_<slaac>", "skipped", 4],
        ["tests.test_network.TestNetwork test_dhcp", "failed", 50_700],
        ["tests.test_storage test_resize", "passed", 75],
      ],
    );
    assert.equal(parsed.tests[1]?.reason, "AssertionError: login prompt not seen within 30 s");
    assert.deepEqual(parsed.end, { kind: "complete" });
    assert.equal(describeCounts(count(verdicts(parsed.tests))), "2 failed, 2 passed, 1 skipped");
  });

  test("a file cut mid-write keeps every test case before the cut and says it was cut", () => {
    const cut = report.slice(0, report.indexOf("<error"));
    const parsed = parseJUnit(cut);
    assert.equal(parsed.tests.length, 4);
    assert.equal(parsed.tests[3]?.name, "tests.test_network.TestNetwork test_dhcp");
    assert.equal(parsed.end.kind, "truncated");
  });

  test("not JUnit, or hostile: no results, no entity expansion, no crash", () => {
    assert.deepEqual(parseJUnit("just a log file\n").end, { kind: "none" });
    const bomb = `<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "${"x".repeat(100)}"><!ENTITY b "&a;&a;&a;&a;">]>
<testsuite><testcase name="&b;&#0;&#x110000;" time="NaN"/></testsuite>`;
    const parsed = parseJUnit(bomb);
    assert.deepEqual(
      parsed.tests.map((t) => [t.name, t.durationMs ?? null]),
      [["&b;&#0;&#x110000;", null]],
    );
  });
});
