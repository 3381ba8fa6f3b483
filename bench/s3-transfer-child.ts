/**
 * The worker side of the s3 bench, in its own process so its RSS is its own:
 * `image URL BYTES` uploads and downloads an image of BYTES through the s3
 * store; `log URL BYTES` streams a job log of BYTES through a LogStreamer.
 * Prints one JSON line: timings, peak RSS (VmHWM) and whether the bytes came back intact.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { openStore } from "../src/store/index.js";
import { LogStreamer } from "../src/store/log.js";

const [mode, url, sizeText] = process.argv.slice(2);
const size = Number(sizeText);
if ((mode !== "image" && mode !== "log") || url === undefined || !Number.isInteger(size)) {
  throw new Error("usage: s3-transfer-child image|log URL BYTES");
}

/** Peak resident set size of this process so far, in bytes. */
function peakRss(): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) * 1024 : process.memoryUsage().rss;
}

const random = randomBytes(1024 * 1024);

/** total bytes in blocks, the same on every call, no two blocks alike. */
function* blocks(total: number, blockBytes: number): Generator<Buffer> {
  const block = random.subarray(0, blockBytes);
  for (let offset = 0, index = 0; offset < total; offset += block.length, index++) {
    const piece = Buffer.from(block.subarray(0, Math.min(block.length, total - offset)));
    piece.writeUInt32BE(index, 0);
    yield piece;
  }
}

const store = await openStore({
  driver: "s3",
  url,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});
const hash = createHash("sha256");
for (const piece of blocks(size, 1024 * 1024)) hash.update(piece);
const expected = hash.digest("hex");
const result: Record<string, number | boolean> = {};

if (mode === "image") {
  let started = performance.now();
  await store.put("images/bench.qcow2", Readable.from(blocks(size, 1024 * 1024)));
  result.uploadMs = performance.now() - started;
  started = performance.now();
  const stream = await store.getStream("images/bench.qcow2");
  if (stream === null) throw new Error("uploaded image is missing");
  const got = createHash("sha256");
  let bytes = 0;
  for await (const piece of stream) {
    got.update(piece as Buffer);
    bytes += (piece as Buffer).length;
  }
  result.downloadMs = performance.now() - started;
  result.intact = bytes === size && got.digest("hex") === expected;
} else {
  const started = performance.now();
  const log = new LogStreamer(store, "bench-log", {
    title: "bench",
    context: "bench",
    repo: "bench/bench",
    sha: "0".repeat(40),
    worker: "bench",
  });
  // Output in 64 KiB writes, as a chatty test would give it, yielding now and then like a real job.
  let written = 0;
  for (const piece of blocks(size, 64 * 1024)) {
    log.write(piece);
    written += piece.length;
    if (written % (16 * 1024 * 1024) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await log.finish("success", "Success");
  result.uploadMs = performance.now() - started;
  const [info] = await store.list("bench-log/log");
  result.intact = info?.size === size;
}
result.peakRss = peakRss();
await store.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
