/** Rows as one aligned plain-text table. */
import type { BenchRow } from "./types.js";

const COLUMNS: readonly {
  readonly title: string;
  readonly cell: (row: BenchRow) => string;
  readonly right?: boolean;
}[] = [
  { title: "backend", cell: (r) => r.backend },
  { title: "section", cell: (r) => r.section },
  { title: "concurrency", cell: (r) => String(r.concurrency), right: true },
  { title: "requests", cell: (r) => String(r.requests), right: true },
  { title: "ok/s", cell: (r) => (Number.isFinite(r.perSecond) ? r.perSecond.toFixed(0) : "-"), right: true },
  { title: "p50 ms", cell: (r) => r.p50Ms.toFixed(2), right: true },
  { title: "p99 ms", cell: (r) => r.p99Ms.toFixed(2), right: true },
  { title: "note", cell: (r) => r.note ?? "" },
];

export function formatTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((row) => COLUMNS.map((c) => c.cell(row)));
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (COLUMNS[i]?.right ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join(" | ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("-|-");
  return [line(COLUMNS.map((c) => c.title)), rule, ...cells.map(line)].join("\n");
}
