/**
 * The behaviour every Store backend must show. A backend's test file calls
 * storeConformance() with a factory that makes a fresh, empty store.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { chunkName, type LogStatus, LogStreamer } from "../../src/store/log.js";
import { BadKeyError, ObjectExistsError, type Store } from "../../src/store/types.js";

export interface StoreFixture {
  readonly store: Store;
  /** Removes whatever the fixture made (directory, bucket); called after store.close(). */
  cleanup(): Promise<void>;
}

export interface ConformanceOptions {
  /** Size of the large-object test (default 20 MB; a slow run may use 200 MB). */
  readonly largeObjectBytes?: number;
  /**
   * Whether the server behind the backend makes concurrent writes of one key
   * atomic (fs: rename; real S3: yes). s3rver, the only S3 server to be had
   * here, writes the object file in place, so racing puts can interleave there.
   */
  readonly atomicConcurrentPuts?: boolean;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part as string));
  return Buffer.concat(parts);
}

/** size bytes of varied content, made block by block so 200 MB never sits in memory. */
function generated(size: number): { stream: () => Readable; sha256: string } {
  const block = randomBytes(1024 * 1024);
  function* blocks(): Generator<Buffer> {
    for (let offset = 0, index = 0; offset < size; offset += block.length, index++) {
      const piece = Buffer.from(block.subarray(0, Math.min(block.length, size - offset)));
      piece.writeUInt32BE(index, 0); // no two blocks alike, so a repeated or dropped block shows
      yield piece;
    }
  }
  const hash = createHash("sha256");
  for (const piece of blocks()) hash.update(piece);
  return { stream: () => Readable.from(blocks()), sha256: hash.digest("hex") };
}

async function sha256Of(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const part of stream) {
    const buffer = part as Buffer;
    hash.update(buffer);
    size += buffer.length;
  }
  return { sha256: hash.digest("hex"), size };
}

const BAD_KEYS: readonly [string, string][] = [
  ["empty", ""],
  ["absolute", "/etc/passwd"],
  ["parent segment", "a/../b"],
  ["leading parent", "../outside"],
  ["only parent", ".."],
  ["dot segment", "a/./b"],
  ["backslash", "a\\b"],
  ["newline", "a\nb"],
  ["NUL", "a\u0000b"],
  ["escape", "log\u001b[31m"],
  ["empty segment", "a//b"],
  ["trailing slash", "a/"],
  ["too long", "x".repeat(2000)],
];

export function storeConformance(
  name: string,
  makeStore: () => Promise<StoreFixture>,
  options: ConformanceOptions = {},
): void {
  const largeBytes = options.largeObjectBytes ?? 20 * 1024 * 1024;

  describe(`store conformance: ${name}`, () => {
    const fixtures: StoreFixture[] = [];
    async function fresh(): Promise<Store> {
      const fixture = await makeStore();
      fixtures.push(fixture);
      return fixture.store;
    }
    after(async () => {
      for (const fixture of fixtures) {
        await fixture.store.close();
        await fixture.cleanup();
      }
    });

    test("put then get returns the same bytes, for strings and buffers", async () => {
      const store = await fresh();
      await store.put("job-1/log", "hello ✓\n");
      const bytes = Buffer.from([0, 1, 2, 255, 254]);
      await store.put("job-1/attachments/blob.bin", bytes);
      assert.equal((await store.get("job-1/log"))?.toString("utf8"), "hello ✓\n");
      assert.deepEqual(await store.get("job-1/attachments/blob.bin"), bytes);
    });

    test("an empty object is an object", async () => {
      const store = await fresh();
      await store.put("empty", "");
      assert.deepEqual(await store.get("empty"), Buffer.alloc(0));
      assert.deepEqual(
        (await store.list("")).map((info) => [info.key, info.size]),
        [["empty", 0]],
      );
    });

    test("get and getStream of a missing key give null", async () => {
      const store = await fresh();
      assert.equal(await store.get("nothing/here"), null);
      assert.equal(await store.getStream("nothing/here"), null);
      await store.put("dir/file", "x");
      assert.equal(await store.get("dir"), null, "a key prefix is not an object");
      assert.equal(await store.getStream("dir"), null);
    });

    test("put overwrites by default", async () => {
      const store = await fresh();
      await store.put("k", "first");
      await store.put("k", "second");
      assert.equal((await store.get("k"))?.toString(), "second");
    });

    test("overwrite: false refuses an existing key and keeps its content", async () => {
      const store = await fresh();
      await store.put("image/sha256-abc", "original", { overwrite: false });
      await assert.rejects(store.put("image/sha256-abc", "other", { overwrite: false }), ObjectExistsError);
      await assert.rejects(
        store.put("image/sha256-abc", Readable.from([Buffer.from("streamed")]), { overwrite: false }),
        ObjectExistsError,
      );
      assert.equal((await store.get("image/sha256-abc"))?.toString(), "original");
      assert.deepEqual(
        (await store.list("image/")).map((info) => info.key),
        ["image/sha256-abc"],
        "a refused put leaves nothing behind",
      );
    });

    test("streams in and out", async () => {
      const store = await fresh();
      const parts = ["one ", "two ", "three"].map((part) => Buffer.from(part));
      await store.put("streamed/object", Readable.from(parts), { contentType: "text/plain; charset=utf-8" });
      const stream = await store.getStream("streamed/object");
      assert.ok(stream !== null);
      assert.equal((await readAll(stream)).toString(), "one two three");
    });

    test("a failing input stream leaves no object", async () => {
      const store = await fresh();
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(64 * 1024, 1);
        throw new Error("source broke");
      }
      await assert.rejects(store.put("broken/object", Readable.from(failing())), /source broke/);
      assert.equal(await store.get("broken/object"), null);
      assert.deepEqual(await store.list(""), []);
    });

    test("concurrent puts of one key all succeed and leave one whole version", async () => {
      const store = await fresh();
      const versions = [0, 1, 2, 3, 4].map((index) => Buffer.alloc(512 * 1024, index));
      await Promise.all(versions.map((version) => store.put("raced", version)));
      const stored = await store.get("raced");
      assert.ok(stored !== null);
      assert.equal(stored.length, 512 * 1024);
      if (options.atomicConcurrentPuts !== false) {
        assert.ok(
          versions.some((version) => version.equals(stored)),
          "stored object is one of the versions",
        );
      }
      assert.deepEqual(
        (await store.list("")).map((info) => info.key),
        ["raced"],
      );
    });

    test(`a large object (${largeBytes} bytes) goes in and out as streams`, async () => {
      const store = await fresh();
      const data = generated(largeBytes);
      await store.put("images/large.qcow2", data.stream(), { overwrite: false });
      const [info] = await store.list("images/large");
      assert.equal(info?.size, largeBytes);
      const stream = await store.getStream("images/large.qcow2");
      assert.ok(stream !== null);
      assert.deepEqual(await sha256Of(stream), { sha256: data.sha256, size: largeBytes });
    });

    test("list returns keys under a prefix, sorted, with size and time", async () => {
      const store = await fresh();
      const before = Date.now() - 5000;
      for (const key of ["b/2", "a/b/c", "a-b", "a/b1/x", "a.b", "a/c", "a/b/a", "z"])
        await store.put(key, key);
      const all = await store.list("");
      assert.deepEqual(
        all.map((info) => info.key),
        ["a-b", "a.b", "a/b/a", "a/b/c", "a/b1/x", "a/c", "b/2", "z"],
      );
      for (const info of all) {
        assert.equal(info.size, Buffer.byteLength(info.key));
        assert.ok(info.modified.getTime() >= before && info.modified.getTime() <= Date.now() + 5000);
      }
      assert.deepEqual(
        (await store.list("a/b")).map((info) => info.key),
        ["a/b/a", "a/b/c", "a/b1/x"],
        "a prefix may end inside a segment",
      );
      assert.deepEqual(
        (await store.list("a/b/")).map((info) => info.key),
        ["a/b/a", "a/b/c"],
      );
      assert.deepEqual(
        (await store.list("a/b/c")).map((info) => info.key),
        ["a/b/c"],
      );
      assert.deepEqual(await store.list("nothing/"), []);
      assert.deepEqual(await store.list("a/b/c/"), [], "an object is no directory");
    });

    test("delete removes, and deleting a missing key is fine", async () => {
      const store = await fresh();
      await store.put("job/log.chunks/000000", "a");
      await store.put("job/log.chunks/000001", "b");
      await store.put("job/log", "ab");
      await store.delete("job/log.chunks/000000");
      await store.delete("job/log.chunks/000001");
      await store.delete("job/log.chunks/000001");
      await store.delete("never/was");
      assert.equal(await store.get("job/log.chunks/000000"), null);
      assert.deepEqual(
        (await store.list("")).map((info) => info.key),
        ["job/log"],
      );
      await store.put("job/log.chunks/000002", "c");
      assert.equal(
        (await store.get("job/log.chunks/000002"))?.toString(),
        "c",
        "a emptied prefix can be used again",
      );
    });

    test("bad keys are refused by every operation, naming the key", async () => {
      const store = await fresh();
      for (const [what, key] of BAD_KEYS) {
        const named = (error: unknown): boolean =>
          error instanceof BadKeyError && error.message.includes(JSON.stringify(key).slice(0, 40));
        await assert.rejects(store.put(key, "x"), named, `put refuses ${what}`);
        await assert.rejects(store.get(key), named, `get refuses ${what}`);
        await assert.rejects(store.getStream(key), named, `getStream refuses ${what}`);
        await assert.rejects(store.delete(key), named, `delete refuses ${what}`);
        assert.throws(() => store.url(key), BadKeyError, `url refuses ${what}`);
      }
      await assert.rejects(store.list("../"), BadKeyError);
      await assert.rejects(store.list("/abs"), BadKeyError);
      assert.deepEqual(await store.list(""), [], "nothing was written");
    });

    test("a log streams in chunks while the job runs, then becomes one log and a static page", async () => {
      const store = await fresh();
      const slug = "pull-1-abcdef12-unit";
      const log = new LogStreamer(
        store,
        slug,
        { title: "Streaming", context: "unit", repo: "a/b", sha: "abcdef12", pull: 1, worker: "w" },
        { flushIntervalMs: 20, flushBytes: 64 * 1024 },
      );
      const status = async (): Promise<LogStatus | null> => {
        const raw = await store.get(`${slug}/status.json`);
        return raw === null ? null : (JSON.parse(raw.toString()) as LogStatus);
      };
      const chunksPublished = async (count: number) => {
        const deadline = Date.now() + 20_000;
        while (((await status())?.chunks ?? 0) < count) {
          assert.ok(Date.now() < deadline, `${count} chunks are published before the job ends`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      log.write("first line\n");
      await chunksPublished(1);
      assert.equal((await store.get(`${slug}/${chunkName(0)}`))?.toString(), "first line\n");
      assert.equal(await store.get(`${slug}/log`), null, "no whole log while running");
      const big = `${"x".repeat(99)}\n`.repeat(2000); // 200 KB: more than flushBytes, so chunks follow at once
      log.write(big);
      await chunksPublished(2);
      log.write("\u001b[31mlast <line>\u001b[0m\n");
      await log.finish("failure", "1 test failed");
      const whole = (await store.get(`${slug}/log`))?.toString();
      assert.equal(whole, `first line\n${big}\u001b[31mlast <line>\u001b[0m\n`);
      assert.equal((await status())?.state, "failure");
      assert.deepEqual(await store.list(`${slug}/log.chunks/`), [], "chunks are removed at the end");
      const page = (await store.get(`${slug}/log.html`))?.toString() ?? "";
      assert.match(page, /<span class="f1">last &#60;line&#62;<\/span>/, "the final page embeds the output");
      assert.doesNotMatch(page, /<script/, "the final page needs no script");
    });

    test("keys with spaces and unicode work, and url() encodes them", async () => {
      const store = await fresh();
      const key = "pull 7/Test Résumé #1?.png";
      await store.put(key, "png");
      assert.equal((await store.get(key))?.toString(), "png");
      assert.deepEqual(
        (await store.list("pull 7/")).map((info) => info.key),
        [key],
      );
      const url = new URL(store.url(key));
      assert.ok(url.pathname.endsWith("/pull%207/Test%20R%C3%A9sum%C3%A9%20%231%3F.png"), url.href);
      assert.equal(url.search, "");
      assert.equal(url.hash, "");
    });
  });
}
