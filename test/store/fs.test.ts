import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { TEMP_PREFIX } from "../../src/store/fs.js";
import { openStore } from "../../src/store/index.js";
import { BadKeyError } from "../../src/store/types.js";
import { storeConformance } from "./conformance.js";

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "hangar-store-"));
}

async function fsFixture() {
  const dir = await tempDir();
  const store = await openStore({
    driver: "fs",
    dir: path.join(dir, "store"),
    publicUrl: "http://127.0.0.1:8081/",
  });
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

storeConformance("fs", fsFixture);
// The slow run: HANGAR_SLOW_TESTS=1 node --test dist/test/store/
if (process.env.HANGAR_SLOW_TESTS)
  storeConformance("fs, 200 MB", fsFixture, { largeObjectBytes: 200 * 1024 * 1024 });

describe("fs store specifics", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  async function open(publicUrl = "https://logs.example.org/hangar") {
    const dir = await tempDir();
    dirs.push(dir);
    return { dir, store: await openStore({ driver: "fs", dir, publicUrl }) };
  }

  test("objects are plain files under the directory", async () => {
    const { dir, store } = await open();
    await store.put("pull-7-abc/log", "text");
    assert.equal((await stat(path.join(dir, "pull-7-abc", "log"))).size, 4);
    assert.equal(store.driver, "fs");
  });

  test("url joins the public URL and the key with one slash", async () => {
    const { store } = await open();
    assert.equal(store.url("pull-7/log.html"), "https://logs.example.org/hangar/pull-7/log.html");
    const { store: slashed } = await open("http://127.0.0.1:8081/");
    assert.equal(slashed.url("a b/c"), "http://127.0.0.1:8081/a%20b/c");
  });

  test("an upload in progress is invisible, and its temp file is not a key", async () => {
    const { dir, store } = await open();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow(): AsyncGenerator<Buffer> {
      yield Buffer.from("first half ");
      await gate;
      yield Buffer.from("second half");
    }
    const upload = store.put("job/big", Readable.from(slow()));
    const deadline = Date.now() + 5000;
    while ((await readdir(path.join(dir, "job")).catch(() => [])).length === 0) {
      assert.ok(Date.now() < deadline, "temp file appears");
      await new Promise((resolve) => setImmediate(resolve));
    }
    const names = await readdir(path.join(dir, "job"));
    assert.ok(
      names.every((name) => name.startsWith(TEMP_PREFIX)),
      names.join(","),
    );
    assert.deepEqual(await store.list(""), []);
    assert.equal(await store.get("job/big"), null);
    await assert.rejects(store.get(`job/${names[0]}`), BadKeyError);
    release();
    await upload;
    assert.equal((await store.get("job/big"))?.toString(), "first half second half");
    assert.deepEqual(await readdir(path.join(dir, "job")), ["big"]);
  });

  test("deleting the last object of a directory removes the empty directories", async () => {
    const { dir, store } = await open();
    await store.put("job/log.chunks/000000", "x");
    await store.put("job/log", "x");
    await store.delete("job/log.chunks/000000");
    assert.deepEqual(await readdir(path.join(dir, "job")), ["log"]);
    await store.delete("job/log");
    assert.deepEqual(await readdir(dir), []);
  });

  test("the directory is made when missing, and files that are not keys are skipped", async () => {
    const dir = path.join(await tempDir(), "deep", "store");
    dirs.push(path.dirname(path.dirname(dir)));
    const store = await openStore({ driver: "fs", dir, publicUrl: "http://x/" });
    await writeFile(path.join(dir, `${TEMP_PREFIX}left-over`), "crash debris");
    await store.put("a", "1");
    assert.deepEqual(
      (await store.list("")).map((info) => info.key),
      ["a"],
    );
  });
});
