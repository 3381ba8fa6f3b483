/** The end of a log: the static page that replaces the live viewer, and the spool behind both. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { openStore } from "../../src/store/index.js";
import { type LogMeta, LogStreamer } from "../../src/store/log.js";
import { EMBED_BYTES } from "../../src/store/log-page.js";
import type { Store } from "../../src/store/types.js";

const META: LogMeta = {
  title: "Fix <the> frobnicator",
  context: "debian/unit",
  repo: "example/project",
  sha: "0123456789abcdef0123456789abcdef01234567",
  pull: 7,
  worker: "worker-1",
};
const SLUG = "pull-7-01234567-debian-unit";

describe("the final log page", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  async function setup(): Promise<{ store: Store; spoolDir: string }> {
    const dir = await mkdtemp(path.join(tmpdir(), "hangar-final-"));
    dirs.push(dir);
    const store = await openStore({ driver: "fs", dir: path.join(dir, "store"), publicUrl: "http://x/" });
    const spoolDir = path.join(dir, "spool");
    await mkdir(spoolDir);
    return { store, spoolDir };
  }

  test("embeds the whole output, escaped and coloured, with title, state, timing and attachments", async () => {
    const { store, spoolDir } = await setup();
    const log = new LogStreamer(store, SLUG, META, { spoolDir, mask: ["hunter2"] });
    log.write("step one <ok>\n\u001b[1;32mPASS\u001b[0m secret=hunter2\n");
    await log.attach("screen shot.png", Buffer.from("png"));
    log.write("done\n");
    await log.finish("success", "Success [worker-1]");
    const page = (await store.get(`${SLUG}/log.html`))?.toString() ?? "";
    assert.match(
      page,
      /<pre id="log">step one &#60;ok&#62;\n<span class="b f2">PASS<\/span> secret=\*\*\*\ndone\n<\/pre>/,
    );
    assert.doesNotMatch(page, /hunter2/);
    assert.match(page, /<title>success: Fix &#60;the&#62; frobnicator<\/title>/);
    assert.match(page, /<h1 id="title">Fix &#60;the&#62; frobnicator<\/h1>/);
    assert.match(page, /<span id="state" class="state success">success<\/span>/);
    assert.match(page, /<span id="description">Success \[worker-1\]<\/span>/);
    assert.match(page, /started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, took \d+s/);
    assert.match(page, /<a href="attachments\/screen%20shot.png">screen shot.png<\/a>/);
    assert.match(page, /<a href="https:\/\/github.com\/example\/project\/pull\/7">example\/project#7<\/a>/);
    assert.match(page, /<a href="log">raw log<\/a>/);
    assert.doesNotMatch(page, /<script|<noscript/, "nothing left for a script to do");
    assert.deepEqual(await readdir(spoolDir), [], "the spool file is gone");
  });

  test("the output lives in a spool file while the job runs, not in memory", async () => {
    const { store, spoolDir } = await setup();
    const log = new LogStreamer(store, SLUG, META, { spoolDir });
    log.write("a".repeat(1000));
    await log.flush();
    const [spool] = await readdir(spoolDir);
    assert.ok(spool !== undefined, "a spool file exists while running");
    assert.equal((await stat(path.join(spoolDir, spool))).size, 1000);
    assert.equal((await stat(path.join(spoolDir, spool))).mode & 0o777, 0o600);
    await log.finish("failure", "Failed");
    assert.deepEqual(await readdir(spoolDir), []);
  });

  test(`a log longer than ${EMBED_BYTES} bytes: the page shows its start and end, the raw log has all`, async () => {
    const { store, spoolDir } = await setup();
    const log = new LogStreamer(store, SLUG, META, { spoolDir, flushBytes: 8 * 1024 * 1024 });
    const line = (index: number) => `line ${String(index).padStart(8, "0")} ${"-".repeat(80)}\n`;
    const lines = Math.ceil((EMBED_BYTES * 1.5) / line(0).length);
    let batch = "";
    for (let index = 0; index < lines; index++) {
      batch += line(index);
      if (batch.length > 64 * 1024) {
        log.write(batch);
        batch = "";
      }
    }
    log.write(batch);
    await log.finish("success", "Success");
    const [raw] = await store.list(`${SLUG}/log`);
    assert.equal(raw?.size, lines * line(0).length, "the raw log is complete");
    const page = (await store.get(`${SLUG}/log.html`))?.toString() ?? "";
    assert.ok(page.length < EMBED_BYTES * 1.1, `page size ${page.length}`);
    assert.ok(page.includes(line(0)), "starts with the first line");
    assert.ok(page.includes(`${line(lines - 1)}</pre>`), "ends with the last line");
    assert.ok(!page.includes(line(Math.floor(lines * 0.3))), "the middle is left out");
    assert.match(
      page,
      /<span id="note">[\d.]+ MiB of output left out here. The <a href="log">raw log<\/a> has all/,
    );
    assert.match(page, /-\n<span id="note">.*<\/span>line \d{8} -/, "cut at line boundaries");
  });
});
