/**
 * The dashboard in a real browser (headless Chromium through playwright-core)
 * on a whole deployment (`hangar serve` and the GitHub emulator): a PR's job
 * waits in the queue, runs with its log growing live, ends with its result
 * and a working log link; an action without the admin token is refused; and
 * /metrics, read by a Prometheus text-format parser, counts what happened.
 * Screenshots of each page go to test-artifacts/dashboard/.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { parse, stringify } from "yaml";
import { type Deployment, isFinal, sh, startDeployment, waitFor, waitForStatuses } from "../e2e/harness.js";
import { type Browser, browserMissing, launchBrowser, skipWithoutBrowser } from "../fixtures/browser.js";
import { histogramCount, parseMetrics, value } from "../metrics/prometheus.js";

const ARTIFACTS = fileURLToPath(new URL("../../../test-artifacts/dashboard/", import.meta.url));
const REPO = "acme/widget";
const CONTEXT = "debian/slow";
const ADMIN_TOKEN = "dashboard-admin-token-5f2c9a";

const text = async (page: Page, selector: string) =>
  (await page.locator(selector).first().textContent()) ?? "";
const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Restart `hangar serve` with a dashboard on a free port; its URL comes from the log. */
async function enableDashboard(deployment: Deployment): Promise<string> {
  await deployment.kill();
  writeFileSync(path.join(deployment.dir, "admin-token"), `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  const config = parse(readFileSync(deployment.configFile, "utf8")) as Record<string, unknown>;
  config.dashboard = { listen: "127.0.0.1:0", adminToken: { file: "admin-token" } };
  writeFileSync(deployment.configFile, stringify(config));
  const seen = deployment.logs.length;
  await deployment.restart();
  return waitFor("the dashboard's address", async () => {
    const line = deployment.logs.slice(seen).find((entry) => entry.msg === "dashboard listening");
    return typeof line?.url === "string" ? line.url : undefined;
  });
}

describe("dashboard in Chromium", { skip: skipWithoutBrowser }, () => {
  let deployment: Deployment;
  let dashboard: string;
  let browser: Browser;
  let context: BrowserContext;
  let gate: string;

  before(async () => {
    assert.equal(browserMissing, undefined, browserMissing);
    deployment = await startDeployment({
      projects: { [REPO]: { branches: { main: [CONTEXT] } } },
      trust: { users: ["alice"] },
      worker: { concurrency: 1 },
    });
    gate = path.join(deployment.exchange, "gate");
    dashboard = await enableDashboard(deployment);
    await deployment.emulator.createRepo({
      repo: REPO,
      files: {
        "README.md": "dashboard test\n",
        ".hangar/run": sh(
          `i=0\nwhile [ ! -e '${gate}' ]; do i=$((i+1)); echo "tick $i <ok>"; sleep 0.3; done\necho "gate opened"`,
        ),
      },
    });
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchBrowser({ width: 1100, height: 800 });
    context = browser.context;
  });
  after(async () => {
    if (gate) writeFileSync(gate, "");
    await browser?.close();
    await deployment?.stop();
  });

  test("a PR's jobs: queued, running with a live log, finished with a log link; actions need the token", async () => {
    const first = await deployment.emulator.openPull({
      repo: REPO,
      author: "alice",
      title: "First change",
      files: { "a.txt": "a\n" },
    });
    const page = await context.newPage();
    const url = (p: string) => new URL(p, dashboard).href;

    // The one job slot is taken by the first PR's job, which waits for the gate.
    await page.goto(url("/"));
    const running = page.locator("#running tr[data-job]", { hasText: "running" });
    await waitFor(
      "the first job running on the overview",
      async () => ((await running.count()) > 0 ? true : undefined),
      60_000,
    );
    const slug = (await running.first().getAttribute("data-job")) ?? "";
    assert.match((await running.first().textContent()) ?? "", /running/);
    assert.match(await text(page, "#worker-summary"), /e2e-worker/);
    await shot(page, "overview-running");

    const second = await deployment.emulator.openPull({
      repo: REPO,
      author: "alice",
      title: "Second change",
      files: { "b.txt": "b\n" },
    });
    await page.goto(url("/queues"));
    await waitFor(
      "the second PR's entry in the public queue",
      async () =>
        (await page.locator("#queue-public ~ div tr.entry", { hasText: "Second change" }).count()) > 0
          ? true
          : undefined,
      60_000,
    );
    await shot(page, "queues-waiting-entry");

    // The running job's page: its log grows while the page stays (no reload).
    await page.goto(url(`/jobs/${encodeURIComponent(slug)}`));
    await page.evaluate("window.sameDocument = true");
    await waitFor(
      "output in the log tail",
      async () => ((await text(page, "#log-text")).includes("tick 1 <ok>") ? true : undefined),
      30_000,
    );
    const lines = async () =>
      (await text(page, "#log-text")).split("\n").filter((l) => l.startsWith("tick ")).length;
    const before = await lines();
    await waitFor(
      "the log tail to grow",
      async () => ((await lines()) > before + 3 ? true : undefined),
      30_000,
    );
    assert.equal(await page.evaluate("window.sameDocument"), true, "updated live, not reloaded");
    assert.match(await text(page, '[data-field="result"]'), /running/);
    await shot(page, "job-running");

    writeFileSync(gate, "");
    await waitFor(
      "the result on the job page",
      async () => ((await text(page, '[data-field="result"]')).includes("success") ? true : undefined),
      60_000,
    );
    // The result and the log's end arrive as separate live updates.
    await waitFor(
      "the end of the log on the job page",
      async () => ((await text(page, "#log-text")).includes("gate opened") ? true : undefined),
      30_000,
    );
    assert.equal(await page.evaluate("window.sameDocument"), true);
    await shot(page, "job-finished");

    // Without the admin token, the retry button leads to a refusal and nothing happens.
    const statusesBefore = (await deployment.emulator.statuses(REPO, first.sha)).length;
    const [refusal] = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith("/actions/retry")),
      page.locator('form[action="/actions/retry"] button').click(),
    ]);
    assert.equal(refusal.status(), 401);
    assert.match(await text(page, "main"), /Actions need the admin token/);
    assert.equal((await deployment.emulator.statuses(REPO, first.sha)).length, statusesBefore);
    await shot(page, "action-refused");

    // Both PRs end green; the history lists them with duration and a log link that works.
    for (const pull of [first, second])
      await waitForStatuses(deployment, REPO, pull.sha, CONTEXT, isFinal, 60_000);
    await page.goto(url(`/jobs?repo=${encodeURIComponent(REPO)}`));
    const rows = page.locator("#history tr[data-job]");
    await waitFor(
      "both jobs in the history",
      async () => {
        await page.reload();
        const all = await rows.allTextContents();
        return all.length === 2 && all.every((row) => row.includes("success")) ? true : undefined;
      },
      30_000,
    );
    await shot(page, "history");
    const row = page.locator(`#history tr[data-job="${slug}"]`);
    assert.match((await row.locator("td.num").textContent()) ?? "", /^\d+s$|^\d+m \d+s$/);
    await row.locator("a", { hasText: "log" }).click();
    await page.waitForLoadState();
    assert.match((await page.locator("body").textContent()) ?? "", /gate opened/);
    await shot(page, "log-page");

    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, pathname] of [
      ["workers", "/workers"],
      ["flaky", "/flaky"],
      ["overview-phone", "/"],
    ] as const) {
      await page.goto(url(pathname));
      await shot(page, name);
    }
    const overflow = await page.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    assert.ok(Number(overflow) <= 1, "the overview fits a phone's width");

    // /metrics counts what this test did.
    const metricsText = await (await fetch(url("/metrics"))).text();
    const metrics = parseMetrics(metricsText);
    assert.equal(
      value(metrics, "hangar_webhook_deliveries_total", { event: "pull_request", outcome: "queued" }),
      2,
    );
    assert.equal(value(metrics, "hangar_jobs_started_total", { context: CONTEXT }), 2);
    assert.equal(value(metrics, "hangar_jobs_finished_total", { context: CONTEXT, result: "success" }), 2);
    assert.equal(histogramCount(metricsText, "hangar_job_duration_seconds", { context: CONTEXT }), 2);
    const posted =
      (await deployment.emulator.statuses(REPO, first.sha)).length +
      (await deployment.emulator.statuses(REPO, second.sha)).length;
    assert.equal(value(metrics, "hangar_github_api_calls_total", { operation: "postStatus" }), posted);
    assert.equal(value(metrics, "hangar_queue_depth", { queue: "public", state: "ready" }), 0);
    assert.ok(value(metrics, "hangar_worker_last_heartbeat_timestamp_seconds", { worker: "e2e-worker" }) > 0);
    assert.ok(!metricsText.includes(ADMIN_TOKEN) && !metricsText.includes(deployment.secret));
  });
});
