/**
 * The abuse section in its short form: under each attack the webhook stays
 * small, takes every legitimate delivery, answers no 5xx and exports no new
 * series. (The latency goal, p99 under 100 ms, is for `npm run chaos` on a
 * quiet machine; here, beside the rest of the suite, only a gross stall fails.)
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { type AbuseResult, abuseScenarios, formatAbuseTable, SHORT_ABUSE } from "./abuse.js";

const MAX_RSS_MB = 200;
const MAX_P99_MS = 1000;

const results: AbuseResult[] = [];
after(() => process.stderr.write(`\n${formatAbuseTable(results)}\n`));

for (const [index, scenario] of abuseScenarios(SHORT_ABUSE).entries()) {
  test(`abuse ${index + 1}: bounded memory, every legitimate delivery taken, no 5xx, no new series`, async () => {
    const result = await scenario();
    results.push(result);
    const table = formatAbuseTable([result]);
    assert.ok(result.rssMb.peak < MAX_RSS_MB, table);
    assert.equal(result.legitAccepted, result.legitSent, table);
    assert.equal(result.serverErrors, 0, table);
    assert.match(result.note ?? "", /series (\d+) before, \1 after/, table);
    assert.ok(result.legitP99Ms < MAX_P99_MS, table);
  });
}
