/** Test results read from a job's output: what a report holds, whatever its format. */

/** A byte range of the job's log. */
export interface LogRange {
  readonly start: number;
  readonly end: number;
}

export interface ParsedTest {
  /** The test's number in its report (TAP) or its position (JUnit). */
  readonly number: number;
  readonly name: string;
  readonly result: "passed" | "failed" | "skipped";
  readonly durationMs?: number;
  /** A failed attempt the suite runs again (Cockpit's `# RETRY N (reason)`). */
  readonly retry?: { readonly attempt: number; readonly reason: string };
  /** Why it was skipped, or the failure's message. */
  readonly reason?: string;
  /** The test's output in the log (TAP), when known. */
  readonly output?: LogRange;
  readonly resultLine?: LogRange;
}

/** How a report ended: completely, or where reading it stopped and why. */
export type ReportEnd =
  | { readonly kind: "complete" }
  | { readonly kind: "none" }
  | { readonly kind: "truncated"; readonly reason: string }
  | { readonly kind: "malformed"; readonly reason: string }
  | { readonly kind: "bail-out"; readonly reason: string };

export interface TestReport {
  readonly format: "tap" | "junit";
  readonly tests: readonly ParsedTest[];
  /** Results past the per-report cap: counted, not kept. */
  readonly dropped: number;
  readonly end: ReportEnd;
}
