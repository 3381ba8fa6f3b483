/**
 * `npm run redteam`: every attack of the catalogue as an approved stranger's
 * PR through the real pipeline, on the process and the container executor.
 * Prints `attack | executor | outcome`; exits 1 if anything was not contained.
 *   npm run redteam -- [--executor process|container]
 */
import { ATTACKS } from "./attacks.js";
import { type ExecutorName, type Finding, fireAll, openRange } from "./range.js";
import { contained, table } from "./report.js";

function executors(argv: readonly string[]): ExecutorName[] {
  const index = argv.indexOf("--executor");
  const named = index >= 0 ? argv[index + 1] : undefined;
  if (named === undefined) return ["process", "container"];
  if (named !== "process" && named !== "container") {
    throw new Error(`--executor must be process or container, not ${named}`);
  }
  return [named];
}

async function main(): Promise<void> {
  const findings: Finding[] = [];
  for (const executor of executors(process.argv.slice(2))) {
    const started = Date.now();
    const range = await openRange(executor);
    try {
      findings.push(...(await fireAll(range, ATTACKS)));
    } finally {
      await range.close();
    }
    process.stderr.write(
      `redteam: ${executor} executor done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }
  process.stdout.write(`${table(findings)}\n`);
  const failed = findings.filter((finding) => !contained(finding));
  process.stdout.write(`\n${findings.length - failed.length} of ${findings.length} attacks contained\n`);
  if (failed.length > 0) process.exitCode = 1;
}

await main();
