import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import {
  ChecksumError,
  downloadImage,
  ImageCache,
  ImageNameError,
  ImageNotFoundError,
  imageExtension,
  progressLine,
  progressMeter,
  pruneImages,
  readIndex,
  uploadImage,
  validateImageName,
} from "../../src/images/index.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/types.js";

const dir = mkdtempSync(join(tmpdir(), "hangar-images-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(content: string | Buffer, name = "disk.qcow2"): string {
  const path = join(mkdtempSync(join(dir, `src-${counter++}-`)), name);
  writeFileSync(path, content);
  return path;
}

function cache(maxBytes = 1024 * 1024): ImageCache {
  return new ImageCache(mkdtempSync(join(dir, "cache-")), maxBytes);
}

/** A store whose object reads can be counted or broken. */
function wrap(store: Store, getStream: Store["getStream"]): Store {
  return Object.assign(Object.create(store) as Store, { getStream });
}

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0xff;
  writeFileSync(path, bytes);
}

describe("image store", () => {
  let storeDir: string;
  let store: Store;
  before(async () => {
    storeDir = join(dir, "store");
    store = await openStore({ driver: "fs", dir: storeDir, publicUrl: "http://127.0.0.1:9/" });
  });
  after(() => store.close());

  test("upload stores NAME-SHA256.EXT and points the index at it; the same bytes are not sent twice", async () => {
    const source = file("tiny disk image\n");
    const first = await uploadImage(store, "fedora-42", source, { now: new Date("2025-01-02T03:04:05Z") });
    assert.match(first.entry.object, /^fedora-42-[0-9a-f]{64}\.qcow2$/);
    assert.equal(first.entry.size, 16);
    assert.ok(first.transferred);
    assert.equal(readFileSync(join(storeDir, "images", first.entry.object), "utf8"), "tiny disk image\n");
    assert.deepEqual((await readIndex(store)).images["fedora-42"], {
      object: first.entry.object,
      sha256: first.entry.sha256,
      size: 16,
      uploaded: "2025-01-02T03:04:05.000Z",
    });
    const again = await uploadImage(store, "fedora-42", file("tiny disk image\n"));
    assert.equal(again.transferred, false);
    assert.equal(again.entry.object, first.entry.object);
  });

  test("download verifies into the cache; the next one is served from the cache", async () => {
    await uploadImage(store, "debian", file("debian bytes", "debian.img"));
    let reads = 0;
    const counting = wrap(store, (key) => {
      reads++;
      return store.getStream(key);
    });
    const local = cache();
    const first = await downloadImage(counting, "debian", { cache: local });
    assert.equal(first.fromCache, false);
    assert.equal(readFileSync(first.path, "utf8"), "debian bytes");
    const second = await downloadImage(counting, "debian", { cache: local });
    assert.deepEqual([second.fromCache, second.path, reads], [true, first.path, 1]);
  });

  test("a corrupted object is rejected and never lands in the cache", async () => {
    const { entry } = await uploadImage(store, "corrupt-me", file("x".repeat(1000)));
    flipByte(join(storeDir, "images", entry.object), 500);
    const local = cache();
    await assert.rejects(downloadImage(store, "corrupt-me", { cache: local }), ChecksumError);
    assert.deepEqual(readdirSync(local.dir), [], "no image and no partial file");
  });

  test("a corrupt or partial download never replaces a good cached copy", async () => {
    const good = Buffer.from("y".repeat(4096));
    const { entry } = await uploadImage(store, "keep-me", file(good));
    const local = cache();
    const cached = await downloadImage(store, "keep-me", { cache: local });
    const partial = wrap(store, async () =>
      Readable.from(
        (async function* () {
          yield good.subarray(0, 1000);
          throw new Error("connection reset");
        })(),
      ),
    );
    await assert.rejects(
      downloadImage(partial, "keep-me", { cache: local, refresh: true }),
      /connection reset/,
    );
    flipByte(join(storeDir, "images", entry.object), 0);
    await assert.rejects(downloadImage(store, "keep-me", { cache: local, refresh: true }), ChecksumError);
    assert.deepEqual(readFileSync(cached.path), good);
    assert.deepEqual(readdirSync(local.dir), [entry.object]);
  });

  test("a truncated object is rejected as partial", async () => {
    const { entry } = await uploadImage(store, "short", file("z".repeat(100)));
    writeFileSync(join(storeDir, "images", entry.object), "z".repeat(50));
    await assert.rejects(downloadImage(store, "short", { cache: cache() }), /got 50 bytes, expected 100/);
  });

  test("unknown names and bad names are errors of their own", async () => {
    await assert.rejects(downloadImage(store, "no-such-image", { cache: cache() }), ImageNotFoundError);
    assert.throws(() => validateImageName("../etc"), ImageNameError);
    assert.throws(() => validateImageName("a/b"), ImageNameError);
    await assert.rejects(uploadImage(store, "x y", file("1")), ImageNameError);
  });

  test("the cache keeps under its size limit, least recently used first, never the image just fetched", async () => {
    for (const name of ["lru-a", "lru-b", "lru-c"]) await uploadImage(store, name, file(name.repeat(100)));
    const local = cache(1000);
    const a = await downloadImage(store, "lru-a", { cache: local });
    const b = await downloadImage(store, "lru-b", { cache: local });
    const old = new Date(Date.now() - 60_000);
    utimesSync(b.path, old, old);
    await downloadImage(store, "lru-a", { cache: local }); // a is used again: b is now the least recent
    const c = await downloadImage(store, "lru-c", { cache: local });
    assert.deepEqual([existsSync(a.path), existsSync(b.path), existsSync(c.path)], [true, false, true]);
    const tiny = cache(10);
    const only = await downloadImage(store, "lru-c", { cache: tiny });
    assert.ok(existsSync(only.path), "an image bigger than the limit still stays while it is the one in use");
  });

  test("prune removes only objects no index entry names, and not the youngest; --dry-run removes nothing", async () => {
    const v1 = await uploadImage(store, "rolling", file("version 1"));
    const v2 = await uploadImage(store, "rolling", file("version 2"));
    const later = new Date(Date.now() + 2 * 60 * 60 * 1000);
    const dry = await pruneImages(store, { dryRun: true, now: later });
    assert.ok(dry.unreferenced.some((o) => o.key === `images/${v1.entry.object}`));
    assert.ok(existsSync(join(storeDir, "images", v1.entry.object)), "dry run keeps it");
    const young = await pruneImages(store, { now: new Date() });
    assert.ok(
      young.young.some((o) => o.key === `images/${v1.entry.object}`),
      "too young to remove",
    );
    const real = await pruneImages(store, { now: later });
    assert.ok(real.unreferenced.some((o) => o.key === `images/${v1.entry.object}`));
    assert.equal(existsSync(join(storeDir, "images", v1.entry.object)), false);
    assert.ok(existsSync(join(storeDir, "images", v2.entry.object)));
    assert.ok(existsSync(join(storeDir, "images", "index.json")));
  });
});

describe("image names and progress", () => {
  test("object extensions keep compound suffixes", () => {
    assert.equal(imageExtension("/x/disk.qcow2"), "qcow2");
    assert.equal(imageExtension("rootfs.tar.gz"), "tar.gz");
    assert.equal(imageExtension("vmlinuz"), "img");
  });

  test("a bar on a terminal, nothing elsewhere; the bytes pass unchanged", async () => {
    assert.equal(
      progressLine("up", 512 * 1024, 1024 * 1024),
      `up [${"#".repeat(15)}${".".repeat(15)}]  50% 0.5/1.0 MiB`,
    );
    for (const isTTY of [true, false]) {
      const drawn: string[] = [];
      const meter = progressMeter("t", 6, { isTTY, write: (text: string) => drawn.push(text) });
      const out: Buffer[] = [];
      for await (const chunk of Readable.from([Buffer.from("abc"), Buffer.from("def")]).pipe(meter))
        out.push(chunk);
      assert.equal(Buffer.concat(out).toString(), "abcdef");
      if (isTTY) assert.match(drawn.join(""), /100% 0\.0\/0\.0 MiB\n$/);
      else assert.deepEqual(drawn, []);
    }
  });
});
