/** The red-team table: `attack | executor | outcome`. */
import type { Finding } from "./range.js";

export function table(findings: readonly Finding[]): string {
  const rows = findings.map((f) => [f.title, f.executor, f.outcome]);
  const header = ["attack", "executor", "outcome"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join(" | ")
      .trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

export const contained = (finding: Finding) => finding.outcome.startsWith("contained");
