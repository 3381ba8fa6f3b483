/**
 * S3 transfers and memory: a 200 MB image up and down through the s3 store
 * (s3rver on 127.0.0.1), and a 200 MB job log through a LogStreamer, each in
 * a child process whose peak RSS is the figure; the limit is 150 MB.
 * Runs once, whatever the queue backend.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startS3rver } from "../test/store/s3rver.js";
import type { BenchRow, BenchSection } from "./types.js";

const CHILD = fileURLToPath(new URL("./s3-transfer-child.js", import.meta.url));
const BYTES = 200 * 1024 * 1024;
const RSS_LIMIT = 150 * 1024 * 1024;
const MB = 1024 * 1024;

interface ChildResult {
  readonly uploadMs: number;
  readonly downloadMs?: number;
  readonly intact: boolean;
  readonly peakRss: number;
}

function runChild(mode: "image" | "log", url: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--no-warnings", CHILD, mode, url, String(BYTES)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (piece: Buffer) => {
      out += piece.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`s3 bench child (${mode}) exited with ${code}`));
      else resolve(JSON.parse(out) as ChildResult);
    });
  });
}

function row(section: string, requests: number, ms: number, result: ChildResult, detail: string): BenchRow {
  const within = result.peakRss < RSS_LIMIT ? "under" : "OVER";
  return {
    backend: "s3rver",
    section,
    concurrency: 1,
    requests,
    perSecond: (requests * BYTES) / MB / (ms / 1000),
    p50Ms: ms / requests,
    p99Ms: ms / requests,
    note: `${detail}; MB/s in ok/s; peak RSS ${(result.peakRss / MB).toFixed(0)} MB (${within} the 150 MB limit)${result.intact ? "" : "; DATA MISMATCH"}`,
  };
}

let done = false;

export const s3Transfer: BenchSection = {
  name: "s3-transfer",
  async run() {
    if (done) return [];
    done = true;
    const s3 = await startS3rver();
    try {
      const image = await runChild("image", await s3.bucket());
      const log = await runChild("log", await s3.bucket());
      const imageMs = image.uploadMs + (image.downloadMs ?? 0);
      return [
        row(
          "s3 200 MB image up+down",
          2,
          imageMs,
          image,
          `up ${(image.uploadMs / 1000).toFixed(1)} s, down ${((image.downloadMs ?? 0) / 1000).toFixed(1)} s`,
        ),
        row("s3 200 MB job log", 1, log.uploadMs, log, "chunks, final log and page"),
      ];
    } finally {
      await s3.close();
    }
  },
};
