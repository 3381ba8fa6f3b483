/**
 * Reads test results from a job's TAP output as it streams: plain TAP 13/14
 * (plan, `ok`/`not ok`, `# SKIP`/`# TODO`, YAML diagnostics, `Bail out!`) and
 * Cockpit's conventions on top (`# duration: 24s`, `# RETRY 1 (reason)` on a
 * failed attempt that runs again). Output is untrusted: a line that is not TAP
 * is a test's output; a malformed result line is noted, never fatal; a stream
 * that ends early keeps what was read and says where it stopped.
 *
 * A test's output is what the job printed between the previous result line
 * and its own (Cockpit prints a test's log before its result), so each result
 * carries the byte range of the log that belongs to it.
 */
import type { ParsedTest, ReportEnd, TestReport } from "./types.js";

const RESULT = /^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$/;
const PLAN = /^1\.\.(\d+)\s*(?:#.*)?$/;
const DURATION = /duration:\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\b/i;
const RETRY = /^RETRY\s+(\d+)\s*(?:\((.*)\))?/i;
/** Longer lines are cut: an outsider's output must not grow the parser's memory. */
const MAX_LINE = 64 * 1024;
/** Names longer than this are cut (GitHub and the dashboard show names, not essays). */
const MAX_NAME = 500;
/** At most this many results per report; the rest are counted, not kept. */
export const MAX_TESTS = 200_000;
const EMPTY = Buffer.alloc(0);

function durationMs(directive: string): number | undefined {
  const match = DURATION.exec(directive);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = (match[2] ?? "s").toLowerCase();
  return Math.round(unit === "ms" ? value : unit === "s" ? value * 1000 : value * 60_000);
}

interface Directive {
  readonly skip?: string;
  readonly todo?: string;
  readonly retry?: { readonly attempt: number; readonly reason: string };
  readonly durationMs?: number;
}

function parseDirective(text: string | undefined): Directive {
  if (!text) return {};
  const trimmed = text.trim();
  const skip = /^skip\S*\s*(.*)$/i.exec(trimmed);
  const todo = /^todo\b\s*(.*)$/i.exec(trimmed);
  const retry = RETRY.exec(trimmed);
  const duration = durationMs(trimmed);
  return {
    ...(skip ? { skip: skip[1] ?? "" } : {}),
    ...(todo ? { todo: todo[1] ?? "" } : {}),
    ...(retry ? { retry: { attempt: Number(retry[1]), reason: retry[2] ?? "" } } : {}),
    ...(duration !== undefined ? { durationMs: duration } : {}),
  };
}

export class TapParser {
  private readonly tests: ParsedTest[] = [];
  private dropped = 0;
  private plan: number | undefined;
  private bailOut: string | undefined;
  private malformed: { line: number; text: string } | undefined;
  private partial: Buffer = EMPTY;
  /** Bytes of the unfinished line, including any part cut off beyond MAX_LINE. */
  private partialBytes = 0;
  private partialStart = 0;
  /** Bytes consumed so far, and where the current test's output began. */
  private offset = 0;
  private outputStart = 0;
  private lineNumber = 0;
  private inYaml = false;
  private yamlIndent = "";

  /** Feed the next piece of output, as it came; offsets count bytes, so binary output can't skew them. */
  push(chunk: Buffer | string): void {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let newline = bytes.indexOf(10); newline >= 0; newline = bytes.indexOf(10, start)) {
      const lineStart = this.partialBytes > 0 ? this.partialStart : this.offset;
      this.offset = lineStart + this.partialBytes + (newline - start) + 1;
      const line = this.takeLine(bytes.subarray(start, Math.min(newline, start + MAX_LINE)));
      this.line(line.endsWith("\r") ? line.slice(0, -1) : line, lineStart);
      start = newline + 1;
    }
    if (start < bytes.length) {
      if (this.partialBytes === 0) this.partialStart = this.offset;
      this.partialBytes += bytes.length - start;
      if (this.partial.length < MAX_LINE) {
        const room = MAX_LINE - this.partial.length;
        this.partial = Buffer.concat([this.partial, bytes.subarray(start, start + room)]);
      }
    }
  }

  /** The held start of a line plus its rest, decoded, bounded; the hold is emptied. */
  private takeLine(rest: Buffer): string {
    const whole = this.partial.length > 0 ? Buffer.concat([this.partial, rest]) : rest;
    this.partial = EMPTY;
    this.partialBytes = 0;
    return whole.subarray(0, MAX_LINE).toString("utf8");
  }

  /** The stream ended (or was cut): what was read, and how it ended. */
  end(): TestReport {
    if (this.partialBytes > 0) {
      const lineStart = this.partialStart;
      this.offset = lineStart + this.partialBytes;
      this.line(this.takeLine(EMPTY), lineStart);
    }
    return { format: "tap", tests: [...this.tests], dropped: this.dropped, end: this.ending() };
  }

  /** Results so far, for a live view. */
  snapshot(): readonly ParsedTest[] {
    return this.tests;
  }

  private ending(): ReportEnd {
    if (this.bailOut !== undefined) return { kind: "bail-out", reason: this.bailOut };
    const seen = this.tests.length + this.dropped;
    const counted = new Set(this.tests.map((test) => test.number)).size;
    if (this.plan !== undefined && counted < this.plan) {
      return { kind: "truncated", reason: `stopped after ${counted} of ${this.plan} planned tests` };
    }
    if (this.malformed) {
      return {
        kind: "malformed",
        reason: `line ${this.malformed.line} is not a valid TAP result: ${this.malformed.text.slice(0, 80)}`,
      };
    }
    return seen === 0 ? { kind: "none" } : { kind: "complete" };
  }

  private line(line: string, lineStart: number): void {
    this.lineNumber++;
    if (this.inYaml) {
      if (line.trim() === "...") this.inYaml = false;
      else if (!line.startsWith(this.yamlIndent)) this.inYaml = false;
      if (this.inYaml || line.trim() === "...") return;
    }
    if (/^\s+---\s*$/.test(line) && this.tests.length > 0) {
      this.inYaml = true;
      this.yamlIndent = line.slice(0, line.indexOf("-"));
      return;
    }
    const plan = PLAN.exec(line);
    if (plan) {
      this.plan = Number(plan[1]);
      return;
    }
    const bail = /^Bail out!\s*(.*)$/.exec(line);
    if (bail) {
      this.bailOut = bail[1] ?? "";
      return;
    }
    if (!line.startsWith("ok") && !line.startsWith("not ok")) return;
    const match = RESULT.exec(line);
    if (!match) {
      this.malformed ??= { line: this.lineNumber, text: line };
      return;
    }
    this.result(match, lineStart);
  }

  private result(match: RegExpExecArray, lineStart: number): void {
    const passed = match[1] === "ok";
    const directive = parseDirective(match[4]);
    const number = match[2] ? Number(match[2]) : this.tests.length + this.dropped + 1;
    const name = (match[3] ?? "").trim().slice(0, MAX_NAME) || `test ${number}`;
    const output = { start: this.outputStart, end: this.offset };
    this.outputStart = this.offset;
    if (this.tests.length >= MAX_TESTS) {
      this.dropped++;
      return;
    }
    // A TODO test's failure is expected; a skipped test did not run.
    const result =
      directive.skip !== undefined ? "skipped" : passed || directive.todo !== undefined ? "passed" : "failed";
    this.tests.push({
      number,
      name,
      result,
      ...(directive.durationMs !== undefined ? { durationMs: directive.durationMs } : {}),
      ...(directive.retry && !passed ? { retry: directive.retry } : {}),
      ...(directive.skip ? { reason: directive.skip } : {}),
      output,
      resultLine: { start: lineStart, end: this.offset },
    });
  }
}

/** Parse a whole TAP text at once. */
export function parseTap(text: string | Buffer): TestReport {
  const parser = new TapParser();
  parser.push(text);
  return parser.end();
}
