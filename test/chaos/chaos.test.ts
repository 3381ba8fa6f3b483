/** The fault suite in its short form: nothing lost, nothing run twice, every PR with the right result. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { formatTable, type ScenarioResult } from "./fleet.js";
import { SCENARIOS, SHORT } from "./scenarios.js";

const results: ScenarioResult[] = [];
after(() => process.stderr.write(`\n${formatTable(results)}\n`));

for (const scenario of SCENARIOS) {
  test(`chaos ${scenario.name}: 0 lost, 0 duplicated, correct results, no 5xx`, async () => {
    const result = await scenario(SHORT);
    results.push(result);
    assert.deepEqual(
      {
        lost: result.lost,
        duplicated: result.duplicated,
        wrong: result.wrong,
        serverErrors: result.serverErrors,
      },
      { lost: 0, duplicated: 0, wrong: 0, serverErrors: 0 },
      formatTable([result]),
    );
    assert.ok(result.processed > 0, "at least one PR went through");
  });
}
