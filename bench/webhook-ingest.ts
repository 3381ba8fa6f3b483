/**
 * Webhook ingest: signed pull_request deliveries (the emulator's realistic
 * payload) against the webhook running in a child process, each accepted one
 * durably queued before its 202.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type ConfigInput, loadConfigFile } from "../src/config/index.js";
import { samplePullRequestEvent } from "../src/emulator/payloads.js";
import { openConfiguredQueue } from "../src/queue/from-config.js";
import { silentLogger } from "../src/util/logger.js";
import { runLoad } from "./http-load.js";
import type { BenchBackend, BenchOptions, BenchRow, BenchSection } from "./types.js";

const CONCURRENCIES = [1, 16] as const;
const SERVER_SCRIPT = fileURLToPath(new URL("./webhook-server.js", import.meta.url));

/**
 * The emulator's pull_request event (about 22 KB) with labels and a PR description of a few
 * paragraphs, which brings it to the ~28 KB of a typical delivery from GitHub.
 */
function benchPayload(): Buffer {
  const event = samplePullRequestEvent({
    repo: "bench/project",
    number: 42,
    action: "synchronize",
    labels: ["bug", "test-rhel", "no-test"],
  });
  const paragraph =
    "This change reworks how the storage page lists logical volumes, so that thin pools and their volumes " +
    "show up together and a pool that is being resized keeps its place in the list. ";
  (event.pull_request as Record<string, unknown>).body = Array.from({ length: 10 }, () =>
    paragraph.repeat(3),
  ).join("\r\n\r\n");
  return Buffer.from(JSON.stringify(event));
}

async function startServer(
  configFile: string,
  logFile: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SERVER_SCRIPT, configFile, logFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`webhook server exited with ${code} before listening`)));
    lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
  return { child, url };
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`webhook server exited with ${code}`)),
    );
    child.kill("SIGTERM");
  });
}

async function measure(backend: BenchBackend, concurrency: number, options: BenchOptions): Promise<BenchRow> {
  const dir = mkdtempSync(join(tmpdir(), "hangar-bench-webhook-"));
  try {
    const secret = randomBytes(20).toString("hex");
    const config: ConfigInput = {
      webhook: { listen: "127.0.0.1:0", secret },
      queue: backend.queueConfig(dir),
      log: { level: "info" },
    };
    const configFile = join(dir, "hangar.yaml");
    writeFileSync(configFile, JSON.stringify(config));
    const body = benchPayload();
    const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

    const { child, url } = await startServer(configFile, join(dir, "webhook.log"));
    let result: Awaited<ReturnType<typeof runLoad>>;
    try {
      result = await runLoad({
        url,
        concurrency,
        ...options,
        okStatus: 202,
        makeRequest: () => ({
          headers: {
            "content-type": "application/json",
            "x-github-event": "pull_request",
            "x-github-delivery": randomUUID(),
            "x-hub-signature-256": signature,
            "user-agent": "GitHub-Hookshot/bench",
          },
          body,
        }),
      });
    } finally {
      await stopServer(child);
    }

    const loaded = loadConfigFile(configFile);
    const queue = await openConfiguredQueue(loaded, {}, silentLogger());
    const queued = (await queue.inspect(loaded.config.queue.names.webhook, 0)).ready;
    await queue.close();

    const notes = [`${(body.length / 1024).toFixed(1)} KB payload`];
    if (queued !== result.totalOk) notes.push(`QUEUED ${queued} != ACCEPTED ${result.totalOk}`);
    for (const [what, count] of result.failures) notes.push(`${count}x ${what}`);
    return {
      backend: backend.name,
      section: "webhook ingest",
      concurrency,
      requests: result.requests,
      perSecond: result.okPerSecond,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      note: notes.join("; "),
    };
  } finally {
    await backend.cleanup?.(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const webhookIngest: BenchSection = {
  name: "webhook-ingest",
  async run(backend, options) {
    const rows: BenchRow[] = [];
    for (const concurrency of CONCURRENCIES) rows.push(await measure(backend, concurrency, options));
    return rows;
  },
};
