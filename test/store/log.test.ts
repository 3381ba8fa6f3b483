import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { openStore } from "../../src/store/index.js";
import { chunkName, type LogMeta, type LogStatus, LogStreamer } from "../../src/store/log.js";
import { LOG_PAGE_HTML } from "../../src/store/log-page.js";
import { BadKeyError, type ObjectInfo, type PutOptions, type Store } from "../../src/store/types.js";

const META: LogMeta = {
  title: "Fix the frobnicator",
  context: "debian-stable/unit",
  repo: "example/project",
  sha: "0123456789abcdef0123456789abcdef01234567",
  pull: 7,
  worker: "worker-1",
};
const SLUG = "pull-7-01234567-debian-stable-unit";

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function status(store: Store): Promise<LogStatus | null> {
  const raw = await store.get(`${SLUG}/status.json`);
  return raw === null ? null : (JSON.parse(raw.toString()) as LogStatus);
}

async function chunkKeys(store: Store): Promise<string[]> {
  return (await store.list(`${SLUG}/log.chunks/`)).map((info) => info.key);
}

/** A store whose puts can be held up, that counts overlapping puts, and can fail on demand. */
class GatedStore implements Store {
  readonly driver = "fs";
  active = 0;
  maxActive = 0;
  failuresLeft = 0;
  private gate: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  constructor(private readonly inner: Store) {}

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  open(): void {
    this.release();
  }

  async put(key: string, body: Buffer | string | Readable, options?: PutOptions): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await this.gate;
      if (this.failuresLeft > 0) {
        this.failuresLeft--;
        throw new Error("store unavailable");
      }
      await this.inner.put(key, body, options);
    } finally {
      this.active--;
    }
  }
  get(key: string): Promise<Buffer | null> {
    return this.inner.get(key);
  }
  getStream(key: string): Promise<Readable | null> {
    return this.inner.getStream(key);
  }
  list(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  url(key: string): string {
    return this.inner.url(key);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe("LogStreamer", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  async function fsStore(): Promise<Store> {
    const dir = await mkdtemp(path.join(tmpdir(), "hangar-log-"));
    dirs.push(dir);
    return openStore({ driver: "fs", dir, publicUrl: "http://127.0.0.1:8081/" });
  }

  test("writes the page and a running status at start", async () => {
    const store = await fsStore();
    const log = new LogStreamer(store, SLUG, META);
    await log.flush();
    assert.equal((await store.get(`${SLUG}/log.html`))?.toString(), LOG_PAGE_HTML);
    const first = await status(store);
    assert.equal(first?.state, "running");
    assert.equal(first?.description, "In progress [worker-1]");
    assert.equal(first?.pull, 7);
    assert.equal(first?.context, META.context);
    assert.equal(first?.chunks, 0);
    assert.equal(first?.ended, null);
    assert.ok(!Number.isNaN(Date.parse(first?.started ?? "")));
    assert.equal(log.url, `http://127.0.0.1:8081/${SLUG}/log.html`);
    await log.finish("success", "Success [worker-1]");
  });

  test("chunks appear on the interval, before finish, and status counts them", async () => {
    const store = await fsStore();
    const log = new LogStreamer(store, SLUG, META, { flushIntervalMs: 30 });
    log.write("line one\n");
    const keys = await until("first chunk", async () => {
      const found = await chunkKeys(store);
      return found.length > 0 && found;
    });
    assert.deepEqual(keys, [`${SLUG}/${chunkName(0)}`]);
    assert.equal((await store.get(keys[0] ?? ""))?.toString(), "line one\n");
    await until("status counting the chunk", async () => (await status(store))?.chunks === 1);
    log.write(Buffer.from("line two\n"));
    await until("second chunk", async () => (await status(store))?.chunks === 2);
    assert.equal((await store.get(`${SLUG}/${chunkName(1)}`))?.toString(), "line two\n");
    assert.equal((await status(store))?.state, "running");
    await log.finish("success", "Success [worker-1]");
  });

  test("a full buffer is written at once, without waiting for the interval", async () => {
    const store = await fsStore();
    const log = new LogStreamer(store, SLUG, META, { flushIntervalMs: 3_600_000, flushBytes: 1024 });
    log.write("x".repeat(600));
    await log.flush();
    const before = (await chunkKeys(store)).length;
    log.write("y".repeat(2000));
    await until("size-triggered chunk", async () => (await chunkKeys(store)).length === before + 1);
    assert.equal((await store.get(`${SLUG}/${chunkName(before)}`))?.toString(), "y".repeat(2000));
    await log.finish("failure", "2 tests failed");
  });

  test("finish writes the whole log, the final status, and removes the chunks", async () => {
    const store = await fsStore();
    const log = new LogStreamer(store, SLUG, META, { flushIntervalMs: 5 });
    const written: string[] = [];
    for (let index = 0; index < 20; index++) {
      const piece = `step ${index}: ${"ü".repeat(index)}\n`;
      written.push(piece);
      log.write(index % 2 === 0 ? piece : Buffer.from(piece));
      if (index % 5 === 0) await until("a chunk", async () => ((await status(store))?.chunks ?? 0) > 0);
    }
    await log.attach("screenshot.png", Buffer.from("png bytes"));
    await log.attach("logs/journal.txt", Readable.from([Buffer.from("journal")]));
    await log.finish("failure", "Test failed: check the journal");
    assert.equal((await store.get(`${SLUG}/log`))?.toString(), written.join(""));
    const final = await status(store);
    assert.equal(final?.state, "failure");
    assert.equal(final?.description, "Test failed: check the journal");
    assert.ok(final?.ended !== null && Date.parse(final?.ended ?? "") >= Date.parse(final?.started ?? ""));
    assert.deepEqual(final?.attachments, ["screenshot.png", "logs/journal.txt"]);
    assert.ok((final?.chunks ?? 0) > 0);
    assert.deepEqual(await chunkKeys(store), []);
    assert.equal((await store.get(`${SLUG}/attachments/screenshot.png`))?.toString(), "png bytes");
    assert.equal((await store.get(`${SLUG}/attachments/logs/journal.txt`))?.toString(), "journal");
    log.write("too late\n");
    assert.equal(await log.finish("error", "again"), undefined, "a second finish is harmless");
    assert.equal((await status(store))?.state, "failure");
    assert.equal((await store.get(`${SLUG}/log`))?.toString(), written.join(""));
  });

  test("secrets are masked, also when split across writes and chunks", async () => {
    const store = await fsStore();
    const secret = "s3cr3t-t0ken-value";
    const log = new LogStreamer(store, SLUG, META, { flushIntervalMs: 5, mask: [secret, "", "pässwörd"] });
    log.write(`token=${secret}\n`);
    log.write("split: s3cr3t-t0");
    await until("chunk with the first line", async () => (await status(store))?.chunks === 1);
    const firstChunk = (await store.get(`${SLUG}/${chunkName(0)}`))?.toString();
    assert.equal(firstChunk, "token=***\nsplit: ", "a possible secret start is held back");
    log.write(Buffer.from("ken-value done\n"));
    const bytes = Buffer.from("umlaut pässwörd!\n");
    const cut = bytes.indexOf(Buffer.from("ö")) + 1; // inside the two-byte ö
    log.write(bytes.subarray(0, cut));
    log.write(bytes.subarray(cut));
    log.write("s3cr3t at the very end: s3cr3t-t0k");
    await log.finish("error", `Internal error: auth with ${secret} failed`);
    const text = (await store.get(`${SLUG}/log`))?.toString();
    assert.equal(text, "token=***\nsplit: *** done\numlaut ***!\ns3cr3t at the very end: s3cr3t-t0k");
    assert.equal((await status(store))?.description, "Internal error: auth with *** failed");
  });

  test("attachments and their names are masked: streamed, buffered, and in encoded forms", async () => {
    const store = await fsStore();
    const secret = "attach-s3cr3t-value";
    const log = new LogStreamer(store, SLUG, META, { mask: [secret] });
    const body = `raw ${secret}\nb64 ${Buffer.from(`user:${secret}`).toString("base64")}\nurl ${encodeURIComponent(`${secret}&`)}\n`;
    const bytes = Buffer.from(body);
    // One byte per chunk: every split of every form goes through the hold-back logic.
    await log.attach("streamed.txt", Readable.from([...bytes].map((byte) => Buffer.from([byte]))));
    await log.attach("buffered.txt", bytes);
    await log.attach(`dump-${secret}.txt`, Buffer.from("x"));
    await log.finish("success", "Success");
    for (const name of ["streamed.txt", "buffered.txt"]) {
      const text = (await store.get(`${SLUG}/attachments/${name}`))?.toString() ?? "";
      assert.match(
        text,
        /^raw \*\*\*\nb64 [A-Za-z0-9+/]{0,8}\*\*\*[A-Za-z0-9+/=]{0,4}\nurl \*\*\*%26\n$/,
        name,
      );
      assert.equal(text.includes(secret), false);
    }
    assert.deepEqual((await status(store))?.attachments, ["streamed.txt", "buffered.txt", "dump-***.txt"]);
    assert.equal((await store.get(`${SLUG}/attachments/dump-***.txt`))?.toString(), "x");
  });

  test("a slow store never blocks write(), and puts never overlap", async () => {
    const gated = new GatedStore(await fsStore());
    gated.hold();
    const log = new LogStreamer(gated, SLUG, META, { flushIntervalMs: 1, flushBytes: 64 });
    const started = Date.now();
    const expected: string[] = [];
    for (let index = 0; index < 200; index++) {
      const line = `output line ${index}\n`;
      expected.push(line);
      log.write(line);
    }
    assert.ok(Date.now() - started < 1000, "write() returned while the store was stuck");
    assert.equal(await gated.get(`${SLUG}/status.json`), null);
    await new Promise((resolve) => setTimeout(resolve, 20));
    gated.open();
    await until("chunks after release", async () => ((await status(gated))?.chunks ?? 0) > 0);
    await log.finish("success", "Success [worker-1]");
    assert.equal(gated.maxActive, 1, "one store write at a time");
    assert.equal((await gated.get(`${SLUG}/log`))?.toString(), expected.join(""));
    const final = await status(gated);
    assert.equal(final?.state, "success");
    assert.ok((final?.chunks ?? 0) < 200, "output that piled up went out in few chunks");
  });

  test("failed store writes are retried and lose no output", async () => {
    const gated = new GatedStore(await fsStore());
    const log = new LogStreamer(gated, SLUG, META, { flushIntervalMs: 5, retryDelaysMs: [1, 1] });
    await log.flush();
    gated.failuresLeft = 4; // one chunk write gives up after three attempts; the next one succeeds
    log.write("survives\n");
    await until("stored chunk", async () => (await status(gated))?.chunks === 1);
    assert.equal((await gated.get(`${SLUG}/${chunkName(0)}`))?.toString(), "survives\n");
    log.write("more\n");
    await log.finish("success", "Success [worker-1]");
    assert.equal((await gated.get(`${SLUG}/log`))?.toString(), "survives\nmore\n");
  });

  test("finish rejects when the log cannot be stored", async () => {
    const gated = new GatedStore(await fsStore());
    const log = new LogStreamer(gated, SLUG, META, { retryDelaysMs: [1] });
    await log.flush();
    log.write("lost\n");
    gated.failuresLeft = 2;
    await assert.rejects(log.finish("success", "Success"), /could not store the log/);
    assert.equal((await status(gated))?.state, "running", "no final status without a log");
  });

  test("a bad slug or attachment name is refused", async () => {
    const store = await fsStore();
    assert.throws(() => new LogStreamer(store, "../escape", META), BadKeyError);
    const log = new LogStreamer(store, SLUG, META);
    await assert.rejects(log.attach("../../etc/passwd", Buffer.from("x")), BadKeyError);
    await assert.rejects(log.attach("", Buffer.from("x")), BadKeyError);
    await log.finish("success", "Success");
  });
});
