/**
 * Webhook ingest: signed pull_request deliveries (the emulator's realistic
 * payload) against the webhook running in a child process, each accepted one
 * durably queued before its 202. Next to each backend's rows, the same load
 * against a bare Node HTTP server that only checks the HMAC (hmac-server.ts):
 * what the wire and the signature alone allow on this machine right now. The
 * webhook rows give their rate as a ratio to it, which stays comparable on a
 * busy machine where the absolute figures do not.
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
import { type LoadResult, runLoad } from "./http-load.js";
import type { BenchBackend, BenchOptions, BenchRow, BenchSection } from "./types.js";

const CONCURRENCIES = [1, 16] as const;
/** The concurrency the reference is measured at (the goal is stated there). */
const REFERENCE_CONCURRENCY = 16;
const SERVER_SCRIPT = fileURLToPath(new URL("./webhook-server.js", import.meta.url));
const REFERENCE_SCRIPT = fileURLToPath(new URL("./hmac-server.js", import.meta.url));

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

/** Starts a server script that prints {"url": ...} as its first stdout line once listening. */
async function startServer(
  script: string,
  args: readonly string[],
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before listening`)));
    lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
  return { child, url };
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`server exited with ${code}`))));
    child.kill("SIGTERM");
  });
}

/** The load of one row: signed deliveries of `body`, each with a fresh X-GitHub-Delivery. */
function deliveries(url: string, secret: string, body: Buffer, concurrency: number, options: BenchOptions) {
  const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  return runLoad({
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
}

function failureNotes(result: LoadResult): string[] {
  return [...result.failures].map(([what, count]) => `${count}x ${what}`);
}

async function measureReference(
  concurrency: number,
  options: BenchOptions,
  pairedWith: string,
): Promise<BenchRow> {
  const secret = randomBytes(20).toString("hex");
  const body = benchPayload();
  const { child, url } = await startServer(REFERENCE_SCRIPT, [secret]);
  let result: LoadResult;
  try {
    result = await deliveries(url, secret, body, concurrency, options);
  } finally {
    await stopServer(child);
  }
  return {
    backend: "-",
    section: "HTTP+HMAC reference",
    concurrency,
    requests: result.requests,
    perSecond: result.okPerSecond,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    note: [`bare node:http, nothing stored; for the ${pairedWith} rows`, ...failureNotes(result)].join("; "),
  };
}

async function measure(
  backend: BenchBackend,
  concurrency: number,
  options: BenchOptions,
  reference: BenchRow | undefined,
): Promise<BenchRow> {
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

    const { child, url } = await startServer(SERVER_SCRIPT, [configFile, join(dir, "webhook.log")]);
    let result: LoadResult;
    try {
      result = await deliveries(url, secret, body, concurrency, options);
    } finally {
      await stopServer(child);
    }

    const loaded = loadConfigFile(configFile);
    const queue = await openConfiguredQueue(loaded, {}, silentLogger());
    const queued = (await queue.inspect(loaded.config.queue.names.webhook, 0)).ready;
    await queue.close();

    const notes = [`${(body.length / 1024).toFixed(1)} KB payload`];
    if (reference !== undefined) {
      notes.unshift(`${(result.okPerSecond / reference.perSecond).toFixed(2)}x the reference`);
    }
    if (queued !== result.totalOk) notes.push(`QUEUED ${queued} != ACCEPTED ${result.totalOk}`);
    notes.push(...failureNotes(result));
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
    for (const concurrency of CONCURRENCIES) {
      // Measured right before the row it is compared with, so both see the same machine.
      const reference =
        concurrency === REFERENCE_CONCURRENCY
          ? await measureReference(concurrency, options, backend.name)
          : undefined;
      if (reference !== undefined) rows.push(reference);
      rows.push(await measure(backend, concurrency, options, reference));
    }
    return rows;
  },
};
