/** The TAP reader on Cockpit-style and plain TAP 13 output, whole and cut, and on hostile input. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { count, describeCounts, verdicts } from "../../src/results/summary.js";
import { MAX_TESTS, parseTap, TapParser } from "../../src/results/tap.js";

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../../test/results/fixtures/${name}`, import.meta.url)), "utf8");

describe("TAP results", () => {
  const cockpit = fixture("cockpit-style.tap");

  test("a Cockpit log: names, durations, the retried attempt, the skip, the failure", () => {
    const report = parseTap(cockpit);
    assert.deepEqual(
      report.tests.map((t) => [
        t.number,
        t.name.replace(/^test\/verify\//, ""),
        t.result,
        t.durationMs ?? null,
      ]),
      [
        [1, "check-accounts TestAccounts.testBasic", "passed", 24_000],
        [2, "check-accounts TestAccounts.testUserPasswords", "failed", null],
        [2, "check-accounts TestAccounts.testUserPasswords", "passed", 31_000],
        [3, "check-system-info TestSystemInfo.testHardwareInfo", "skipped", null],
        [4, "check-networkmanager-basic TestNetworking.testBasic", "failed", 45_000],
        [5, "check-storage-basic TestStorage.testBasic", "passed", 60_000],
      ],
    );
    assert.deepEqual(report.tests[1]?.retry, { attempt: 1, reason: "be robust against unstable tests" });
    assert.equal(report.tests[3]?.reason, "Not supported on fedora-42");
    assert.deepEqual(report.end, { kind: "truncated", reason: "stopped after 5 of 6 planned tests" });
    const counts = count(verdicts(report.tests));
    assert.equal(describeCounts(counts), "1 failed, 1 flake, 2 passed, 1 skipped");
  });

  test("each result's output is the log between the previous result line and its own", () => {
    const report = parseTap(cockpit);
    const failed = report.tests.find((t) => t.number === 4 && t.result === "failed");
    assert.ok(failed?.output);
    const output = Buffer.from(cockpit).subarray(failed.output.start, failed.output.end).toString();
    assert.match(output, /^> log: Restarting cockpit\.socket\n/);
    assert.match(output, /CalledProcessError/);
    assert.match(output, /not ok 4 .*\n$/);
  });

  test("split into chunks at every position, the result is the same", () => {
    const whole = JSON.stringify(parseTap(cockpit));
    const bytes = Buffer.from(cockpit);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const parser = new TapParser();
      parser.push(bytes.subarray(0, cut));
      parser.push(bytes.subarray(cut));
      assert.equal(JSON.stringify(parser.end()), whole, `cut at ${cut}`);
    }
  });

  test("plain TAP 13 with YAML diagnostics, TODO and a complete plan", () => {
    const report = parseTap(
      [
        "TAP version 13",
        "1..3",
        "ok 1 - parses the config",
        "not ok 2 - rejects a bad signature",
        "  ---",
        "  message: 'expected 401'",
        "  severity: fail",
        "  ok 7 not a result, inside YAML",
        "  ...",
        "not ok 3 - handles IPv6 # TODO not implemented",
      ].join("\n"),
    );
    assert.deepEqual(
      report.tests.map((t) => [t.number, t.name, t.result]),
      [
        [1, "parses the config", "passed"],
        [2, "rejects a bad signature", "failed"],
        [3, "handles IPv6", "passed"],
      ],
    );
    assert.deepEqual(report.end, { kind: "complete" });
  });

  test("a stream cut mid-line keeps every result before the cut", () => {
    const cut = cockpit.slice(0, cockpit.indexOf("not ok 4") + 5);
    const report = parseTap(cut);
    assert.equal(report.tests.length, 4);
    assert.equal(report.end.kind, "truncated");
  });

  test("output without TAP gives no results; malformed result lines are noted, not fatal", () => {
    assert.deepEqual(parseTap("make: Entering directory\nall good\n"), {
      format: "tap",
      tests: [],
      dropped: 0,
      end: { kind: "none" },
    });
    const report = parseTap("ok 1 first\nokay then\nnot ok\nok 3 third\n");
    assert.deepEqual(
      report.tests.map((t) => t.name),
      ["first", "test 2", "third"],
    );
  });

  test("hostile output: huge lines and endless results stay bounded", () => {
    const parser = new TapParser();
    parser.push(`ok 1 ${"x".repeat(5_000_000)}\n`);
    const lines = Array.from({ length: MAX_TESTS + 10 }, (_, i) => `ok ${i + 2} t${i}`).join("\n");
    parser.push(`${lines}\n`);
    const report = parser.end();
    assert.equal(report.tests.length, MAX_TESTS);
    assert.equal(report.dropped, 11);
    assert.ok((report.tests[0]?.name.length ?? 0) <= 500);
  });
});
