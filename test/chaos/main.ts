/** `npm run chaos`: every fault scenario at full size, and their table. Exit code 1 if anything was lost. */
import { formatTable, type ScenarioResult } from "./fleet.js";
import { FULL, SCENARIOS } from "./scenarios.js";

const results: ScenarioResult[] = [];
for (const scenario of SCENARIOS) {
  process.stderr.write(`chaos: running ${scenario.name}...\n`);
  results.push(await scenario(FULL));
}
process.stdout.write(`${formatTable(results)}\n`);
const bad = results.filter((r) => r.lost > 0 || r.duplicated > 0 || r.wrong > 0 || r.serverErrors > 0);
process.exitCode = bad.length > 0 ? 1 : 0;
