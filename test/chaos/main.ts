/**
 * `npm run chaos`: every fault scenario at full size, and their table; then
 * the abuse section (abuse.ts) and its table. Exit code 1 if anything was
 * lost, or a legitimate delivery was refused under attack.
 */
import { type AbuseResult, abuseScenarios, FULL_ABUSE, formatAbuseTable } from "./abuse.js";
import { formatTable, type ScenarioResult } from "./fleet.js";
import { FULL, SCENARIOS } from "./scenarios.js";

const results: ScenarioResult[] = [];
for (const scenario of SCENARIOS) {
  process.stderr.write(`chaos: running ${scenario.name}...\n`);
  results.push(await scenario(FULL));
}
process.stdout.write(`${formatTable(results)}\n`);
const bad = results.filter((r) => r.lost > 0 || r.duplicated > 0 || r.wrong > 0 || r.serverErrors > 0);

const abuse: AbuseResult[] = [];
for (const scenario of abuseScenarios(FULL_ABUSE)) {
  process.stderr.write(`chaos: abuse scenario ${abuse.length + 1}...\n`);
  abuse.push(await scenario());
}
process.stdout.write(`\nabuse\n${formatAbuseTable(abuse)}\n`);
const abused = abuse.filter((r) => r.legitAccepted < r.legitSent || r.serverErrors > 0);
process.exitCode = bad.length > 0 || abused.length > 0 ? 1 : 0;
