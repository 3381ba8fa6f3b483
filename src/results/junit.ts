/**
 * Reads test results from JUnit XML files a job leaves in its attachments
 * (pytest, Maven Surefire, Go's gotestsum, Playwright, ... all write this
 * shape: `<testsuites><testsuite><testcase name classname time>` with a
 * `<failure>`, `<error>` or `<skipped>` child).
 *
 * A tolerant tag scanner rather than an XML library: a job killed mid-write
 * leaves a truncated file, and every test case read before the cut must be
 * kept; a strict parser gives nothing for a file that is not well-formed.
 * Only the elements above are read; entities are decoded in attributes and
 * messages; DOCTYPEs and processing instructions are skipped, never expanded.
 */
import type { ParsedTest, TestReport } from "./types.js";

/** Bigger files are read up to this size and reported truncated. */
export const MAX_JUNIT_BYTES = 64 * 1024 * 1024;
const MAX_TESTS = 200_000;
const MAX_NAME = 500;
const MAX_REASON = 1000;

const TAG = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

const ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, entity: string) => {
    if (entity[0] === "#") {
      const code =
        entity[1] === "x" || entity[1] === "X"
          ? Number.parseInt(entity.slice(2), 16)
          : Number(entity.slice(1));
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[entity] ?? whole;
  });
}

function attributes(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of text.matchAll(ATTRIBUTE)) found.set(match[1] ?? "", decode(match[2] ?? match[3] ?? ""));
  return found;
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value.replace(/,/g, ""));
  return Number.isFinite(number) && number >= 0 ? Math.round(number * 1000) : undefined;
}

interface OpenCase {
  name: string;
  durationMs: number | undefined;
  result: ParsedTest["result"];
  reason?: string;
}

export function parseJUnit(input: string | Buffer): TestReport {
  const whole = typeof input === "string" ? input : input.toString("utf8");
  const text = whole.length > MAX_JUNIT_BYTES ? whole.slice(0, MAX_JUNIT_BYTES) : whole;
  const tests: ParsedTest[] = [];
  let dropped = 0;
  let open: OpenCase | undefined;
  let sawRoot = false;
  let closedRoot = false;

  const close = () => {
    if (!open) return;
    if (tests.length >= MAX_TESTS) dropped++;
    else {
      tests.push({
        number: tests.length + dropped + 1,
        name: open.name,
        result: open.result,
        ...(open.durationMs !== undefined ? { durationMs: open.durationMs } : {}),
        ...(open.reason ? { reason: open.reason } : {}),
      });
    }
    open = undefined;
  };

  for (const match of text.matchAll(TAG)) {
    const [, slash, tag, attrs = "", selfClosing] = match;
    if (tag === "testsuites" || tag === "testsuite") {
      if (slash) closedRoot = true;
      else sawRoot = true;
      continue;
    }
    if (tag === "testcase") {
      if (slash) {
        close();
        continue;
      }
      close();
      const found = attributes(attrs);
      const className = found.get("classname");
      const name = found.get("name") ?? `test ${tests.length + dropped + 1}`;
      open = {
        name: (className ? `${className} ${name}` : name).slice(0, MAX_NAME),
        durationMs: seconds(found.get("time")),
        result: "passed",
      };
      if (selfClosing) close();
      continue;
    }
    if (!open || slash) continue;
    if (tag === "failure" || tag === "error" || tag === "skipped") {
      const found = attributes(attrs);
      open.result = tag === "skipped" ? "skipped" : "failed";
      const message = found.get("message") ?? found.get("type");
      if (message) open.reason = message.slice(0, MAX_REASON);
    }
  }
  const cut = open !== undefined || (sawRoot && !closedRoot) || whole.length > MAX_JUNIT_BYTES;
  // A case whose end never came ran as far as we know: keep it, as read.
  close();
  const end: TestReport["end"] = cut
    ? {
        kind: "truncated",
        reason: `the file ends before its last element closes (read ${tests.length} test cases)`,
      }
    : tests.length + dropped === 0
      ? { kind: "none" }
      : { kind: "complete" };
  return { format: "junit", tests, dropped, end };
}
