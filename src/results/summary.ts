/**
 * From parsed results to verdicts per test: a test that failed in one
 * attempt and passed in a later one on the same commit is flaky; the
 * status description counts them in GitHub's 140 characters.
 */
import type { ParsedTest } from "./types.js";

export type Verdict = "passed" | "failed" | "skipped" | "flaky" | "known-issue";

export interface TestVerdict {
  readonly name: string;
  readonly verdict: Verdict;
  /** Attempts seen (1 when it ran once). */
  readonly attempts: number;
  readonly durationMs?: number;
  /** The last attempt's result. */
  readonly last: ParsedTest;
}

/** One verdict per test name, in the order tests first appeared. */
export function verdicts(tests: readonly ParsedTest[]): TestVerdict[] {
  const byName = new Map<string, ParsedTest[]>();
  for (const test of tests) {
    const attempts = byName.get(test.name);
    if (attempts) attempts.push(test);
    else byName.set(test.name, [test]);
  }
  return [...byName].map(([name, attempts]) => {
    const last = attempts[attempts.length - 1] as ParsedTest;
    const failedBefore = attempts.slice(0, -1).some((attempt) => attempt.result === "failed");
    const verdict: Verdict = last.result === "passed" && failedBefore ? "flaky" : last.result;
    return {
      name,
      verdict,
      attempts: attempts.length,
      ...(last.durationMs !== undefined ? { durationMs: last.durationMs } : {}),
      last,
    };
  });
}

export type Counts = Readonly<Record<Verdict, number>>;

export function count(results: readonly TestVerdict[]): Counts {
  const counts: Record<Verdict, number> = { failed: 0, flaky: 0, "known-issue": 0, skipped: 0, passed: 0 };
  for (const result of results) counts[result.verdict]++;
  return counts;
}

const WORDS: readonly [Verdict, string, string][] = [
  ["failed", "failed", "failed"],
  ["flaky", "flake", "flakes"],
  ["known-issue", "known issue", "known issues"],
  ["passed", "passed", "passed"],
  ["skipped", "skipped", "skipped"],
];

/** `3 failed, 1 flake, 1 known issue, 410 passed`: the parts that are not zero, most urgent first. */
export function describeCounts(counts: Counts): string {
  return WORDS.filter(([verdict]) => counts[verdict] > 0)
    .map(([verdict, one, many]) => `${counts[verdict]} ${counts[verdict] === 1 ? one : many}`)
    .join(", ");
}
