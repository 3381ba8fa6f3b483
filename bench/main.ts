/**
 * `npm run bench`: every section on every available queue backend, one table.
 * Options: --duration SECONDS (per row, default 5), --warmup SECONDS (default 1),
 * --section NAME and --backend NAME (repeatable) to run a subset.
 */
import { parseArgs } from "node:util";
import { backends } from "./backends.js";
import { dashboardPages } from "./dashboard-pages.js";
import { dispatchLatency } from "./dispatch.js";
import { s3Transfer } from "./s3-transfer.js";
import { sandboxStart } from "./sandbox-start.js";
import { formatTable } from "./table.js";
import type { BenchRow, BenchSection } from "./types.js";
import { webhookIngest } from "./webhook-ingest.js";

/** In the order they run. */
const sections: readonly BenchSection[] = [
  webhookIngest,
  dispatchLatency,
  sandboxStart,
  s3Transfer,
  dashboardPages,
];

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    section: { type: "string", multiple: true },
    backend: { type: "string", multiple: true },
  },
});
const options = { durationMs: Number(values.duration) * 1000, warmupMs: Number(values.warmup) * 1000 };
const chosen = <T extends { name: string }>(all: readonly T[], names: readonly string[] | undefined): T[] =>
  all.filter((item) => names === undefined || names.includes(item.name));

const rows: BenchRow[] = [];
for (const backend of chosen(backends, values.backend)) {
  const reason = await backend.unavailable();
  if (reason !== undefined) {
    process.stderr.write(`skipping backend ${backend.name}: ${reason}\n`);
    continue;
  }
  for (const section of chosen(sections, values.section)) {
    process.stderr.write(`running ${section.name} on ${backend.name}...\n`);
    rows.push(...(await section.run(backend, options)));
  }
}
process.stdout.write(`${formatTable(rows)}\n`);
