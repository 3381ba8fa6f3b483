/**
 * The log page in a real browser (headless Chromium through playwright-core),
 * served as static files by s3rver, as on S3: a job printing a line a second
 * for 20 seconds is followed live, then the page shows the final state, and
 * the page that replaces it needs no script. Screenshots go to test-artifacts/.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { openStore } from "../../src/store/index.js";
import { LogStreamer } from "../../src/store/log.js";
import type { Store } from "../../src/store/types.js";
import { type Browser, browserMissing, launchBrowser, skipWithoutBrowser } from "../fixtures/browser.js";
import { S3RVER_CREDENTIALS, type S3Server, startS3rver } from "./s3rver.js";

const ARTIFACTS = fileURLToPath(new URL("../../../test-artifacts/", import.meta.url));

async function until(what: string, condition: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const text = async (page: Page, selector: string) => (await page.locator(selector).textContent()) ?? "";

describe("log page in Chromium", { skip: skipWithoutBrowser }, () => {
  let s3: S3Server;
  let store: Store;
  let browser: Browser;
  let context: BrowserContext;

  before(async () => {
    assert.equal(browserMissing, undefined, browserMissing);
    s3 = await startS3rver();
    store = await openStore({ driver: "s3", url: await s3.bucket(), credentials: S3RVER_CREDENTIALS });
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchBrowser({ width: 1100, height: 800 });
    context = browser.context;
  });
  after(async () => {
    await browser?.close();
    await store?.close();
    await s3?.close();
  });

  test("a reader sees the first lines while the job runs, then the final state", async () => {
    const log = new LogStreamer(store, "pull-5-0badc0de-browser", {
      title: "Browser test <live>",
      context: "debian/browser",
      repo: "acme/widget",
      sha: "0badc0de".repeat(5),
      pull: 5,
      worker: "w1",
    });
    const job = spawn(
      "sh",
      [
        "-c",
        'i=1; while [ $i -le 20 ]; do printf "line %d \\033[32mok\\033[0m\\n" $i; i=$((i+1)); sleep 1; done',
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<number | null>((resolve) => job.once("exit", resolve));
    job.stdout.on("data", (chunk: Buffer) => log.write(chunk));
    try {
      await log.flush();
      const page = await context.newPage();
      const requests: string[] = [];
      page.on("request", (request) => requests.push(request.url()));
      await page.goto(log.url);

      await until("the first line on the page", async () => (await text(page, "#log")).includes("line 1 ok"));
      assert.equal(job.exitCode, null, "the job is still running");
      assert.equal(await text(page, "#state"), "running");
      assert.doesNotMatch(await text(page, "#log"), /line 20 /);
      const green = page.locator("#log span.f2").first();
      assert.equal(await green.textContent(), "ok", "ANSI green as a span");
      // Page-side code as a string: this project compiles without the DOM's types.
      assert.equal(
        await page.evaluate("getComputedStyle(document.querySelector('#log span.f2')).color"),
        "rgb(152, 195, 121)",
      );
      await page.screenshot({ path: path.join(ARTIFACTS, "log-page-running.png") });

      assert.equal(await exited, 0);
      await log.finish("success", "Success [w1]");
      await until("the final state", async () => (await text(page, "#state")) === "success", 15_000);
      await until("the last line", async () => (await text(page, "#log")).includes("line 20 ok"), 15_000);
      const shown = await text(page, "#log");
      assert.equal(shown.match(/^line \d+ ok$/gm)?.length, 20, "every line once, none repeated");
      assert.equal(await page.title(), "success: Browser test <live>");
      await page.screenshot({ path: path.join(ARTIFACTS, "log-page-finished.png"), fullPage: true });

      // Done means done: no more polling. Absence takes waiting longer than the poll interval.
      const seen = requests.length;
      await new Promise((resolve) => setTimeout(resolve, 5000));
      assert.equal(requests.length, seen, `no requests after the end: ${requests.slice(seen).join(", ")}`);

      // A reader arriving later, on a phone, gets the static final page.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.reload();
      assert.equal(await page.locator("script").count(), 0, "the final page has no script");
      assert.equal(await text(page, "#state"), "success");
      assert.match(await text(page, "#log"), /line 1 ok\n[\s\S]*line 20 ok/);
      assert.match(await text(page, "#time"), /took \d+s/);
      const overflow = Number(
        await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"),
      );
      assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow}px)`);
      await page.screenshot({ path: path.join(ARTIFACTS, "log-page-final-phone.png"), fullPage: true });
      await page.close();
    } finally {
      job.kill();
      await log.finish("error", "test ended").catch(() => undefined);
    }
  });
});
