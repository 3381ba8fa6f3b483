/**
 * Cross-site request forgery in a real browser (Debian's Chromium): an admin
 * logged in to the dashboard opens a page served from another port of the same
 * host (the same site, so the SameSite=Strict cookie goes along) whose form
 * posts "drain" to the dashboard. The dashboard refuses it with 403; the
 * dashboard's own Drain button still works.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type DashboardControl, type RunningDashboard, startDashboard } from "../../src/dashboard/index.js";
import { JobDatabase } from "../../src/jobs/database.js";
import { openQueue, type QueueBackend } from "../../src/queue/index.js";
import { queueKinds } from "../../src/queue/layout.js";
import { closeServer, listen } from "../../src/util/http-server.js";
import { silentLogger } from "../../src/util/logger.js";
import { type Browser, browserMissing, launchBrowser, skipWithoutBrowser } from "../fixtures/browser.js";
import { recordWorker } from "./fixtures.js";

const ADMIN = "csrf-admin-token-0123456789";
const layout = { webhook: "webhook", tasks: ["public"], statistics: "statistics" };

/** The attacker's page: a form that posts itself to the dashboard as soon as it loads. */
function attackerPage(dashboardUrl: string): string {
  const action = new URL("/actions/drain", dashboardUrl).href;
  return `<!doctype html><form id="f" method="post" action="${action}">
<input type="hidden" name="worker" value="w1"></form>
<script>document.getElementById("f").submit()</script>`;
}

describe("dashboard against cross-site forms, in Chromium", { skip: skipWithoutBrowser }, () => {
  let dir: string;
  let history: JobDatabase;
  let queue: QueueBackend;
  let dashboard: RunningDashboard;
  let attacker: Server;
  let attackerUrl: string;
  let browser: Browser;
  const controlled: string[] = [];
  const control: DashboardControl = {
    cancelJob: async (id) => void controlled.push(`cancel ${id}`),
    drainWorker: async (name) => void controlled.push(`drain ${name}`),
  };

  before(async () => {
    assert.equal(browserMissing, undefined, browserMissing);
    dir = await mkdtemp(join(tmpdir(), "hangar-csrf-"));
    history = new JobDatabase(join(dir, "jobs.sqlite"));
    recordWorker(history, { name: "w1", capabilities: [], running: [] });
    queue = await openQueue({ driver: "sqlite", path: join(dir, "queue.sqlite"), layout });
    dashboard = await startDashboard({
      listen: "127.0.0.1:0",
      sources: { queue, queues: queueKinds(layout), history },
      adminToken: ADMIN,
      control,
      logger: silentLogger(),
    });
    attacker = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end(attackerPage(dashboard.url));
    });
    attackerUrl = await listen(attacker, "127.0.0.1:0");
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (attacker) await closeServer(attacker, 0);
    await dashboard?.close();
    await queue?.close();
    history?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("a form on another port posting drain with the admin's cookie gets 403; the own button works", async () => {
    const page = await browser.context.newPage();
    await page.goto(new URL("/login?next=/workers", dashboard.url).href);
    await page.fill('input[name="token"]', ADMIN);
    await Promise.all([page.waitForURL(/\/workers$/), page.click('button[type="submit"]')]);

    const forged = page.waitForResponse((response) => response.url().endsWith("/actions/drain"));
    await page.goto(attackerUrl);
    const response = await forged;
    assert.equal(response.status(), 403);
    assert.match(await response.text(), /Refused: the request came from another (site|origin)/);
    assert.deepEqual(controlled, [], "the worker was not drained");

    await page.goto(new URL("/workers", dashboard.url).href);
    const own = page.waitForResponse((r) => r.url().endsWith("/actions/drain"));
    await page.click('form[action="/actions/drain"] button');
    assert.equal((await own).status(), 202);
    assert.deepEqual(controlled, ["drain w1"]);
    await page.close();
  });
});
