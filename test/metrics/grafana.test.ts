/** The sample Grafana dashboard asks only for metrics hangar exports. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { registry } from "../../src/metrics/index.js";

const DASHBOARD = fileURLToPath(new URL("../../../deploy/grafana/hangar-dashboard.json", import.meta.url));

test("every metric in the Grafana dashboard exists", async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const exported = new Set((await registry.getMetricsAsJSON()).map((metric) => metric.name));
  const used = new Set<string>();
  for (const panel of dashboard.panels) {
    assert.ok(panel.targets.length > 0, `${panel.title} has a query`);
    for (const target of panel.targets) {
      for (const [name] of target.expr.matchAll(/hangar_\w+/g))
        used.add(name.replace(/_(bucket|count|sum)$/, ""));
    }
  }
  assert.ok(used.size >= 8);
  for (const name of used) assert.ok(exported.has(name), `${name} is exported`);
});
