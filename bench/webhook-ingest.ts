/**
 * Webhook ingest: signed pull_request deliveries (the emulator's realistic
 * payload) against the webhook running in a child process, each accepted one
 * durably queued before its 202. Next to each backend's rows, the same load
 * against a bare Node HTTP server that only checks the HMAC (hmac-server.ts):
 * what the wire and the signature alone allow on this machine right now. The
 * webhook rows give their rate as a ratio to it, which stays comparable on a
 * busy machine where the absolute figures do not. The two take turns in
 * short slices within the row's duration, both servers up throughout.
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
import { combineLoads, type LoadResult, runLoad } from "./http-load.js";
import type { BenchBackend, BenchOptions, BenchRow, BenchSection } from "./types.js";

const CONCURRENCIES = [1, 16] as const;
/** The concurrency the reference is measured at (the goal is stated there). */
const REFERENCE_CONCURRENCY = 16;
/** Turns each of the reference and hangar get within a row's duration. */
const SLICES = 5;
const SLICE_WARMUP_MS = 300;
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

/** The load of one run: signed deliveries of `body`, each with a fresh X-GitHub-Delivery. */
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

/**
 * The reference and hangar take turns in short slices, so a neighbour's load
 * that comes and goes weighs on both alike and their ratio stays meaningful.
 */
async function alternate(
  reference: (slice: BenchOptions) => Promise<LoadResult>,
  hangar: (slice: BenchOptions) => Promise<LoadResult>,
  options: BenchOptions,
): Promise<{ reference: LoadResult; hangar: LoadResult }> {
  const slice = {
    durationMs: options.durationMs / SLICES,
    warmupMs: Math.min(options.warmupMs, SLICE_WARMUP_MS),
  };
  const references: LoadResult[] = [];
  const hangars: LoadResult[] = [];
  for (let i = 0; i < SLICES; i++) {
    references.push(await reference(slice));
    hangars.push(await hangar(slice));
  }
  return { reference: combineLoads(references), hangar: combineLoads(hangars) };
}

function row(
  backend: string,
  section: string,
  concurrency: number,
  result: LoadResult,
  notes: string[],
): BenchRow {
  return {
    backend,
    section,
    concurrency,
    requests: result.requests,
    perSecond: result.okPerSecond,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    note: [...notes, ...failureNotes(result)].join("; "),
  };
}

/** hangar's rows on one backend (each concurrency), with the reference beside the one at REFERENCE_CONCURRENCY. */
async function measure(
  backend: BenchBackend,
  concurrency: number,
  options: BenchOptions,
): Promise<BenchRow[]> {
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
    const payloadNote = `${(body.length / 1024).toFixed(1)} KB payload`;

    const hangarServer = await startServer(SERVER_SCRIPT, [configFile, join(dir, "webhook.log")]);
    const referenceServer =
      concurrency === REFERENCE_CONCURRENCY ? await startServer(REFERENCE_SCRIPT, [secret]) : undefined;
    const load = (url: string) => (slice: BenchOptions) => deliveries(url, secret, body, concurrency, slice);
    let hangar: LoadResult;
    let reference: LoadResult | undefined;
    try {
      if (referenceServer === undefined) hangar = await load(hangarServer.url)(options);
      else
        ({ hangar, reference } = await alternate(load(referenceServer.url), load(hangarServer.url), options));
    } finally {
      await stopServer(hangarServer.child);
      if (referenceServer !== undefined) await stopServer(referenceServer.child);
    }

    const loaded = loadConfigFile(configFile);
    const queue = await openConfiguredQueue(loaded, {}, silentLogger());
    const queued = (await queue.inspect(loaded.config.queue.names.webhook, 0)).ready;
    await queue.close();

    const notes = [payloadNote];
    if (reference !== undefined) {
      notes.unshift(`${(hangar.okPerSecond / reference.okPerSecond).toFixed(2)}x the reference`);
    }
    if (queued !== hangar.totalOk) notes.push(`QUEUED ${queued} != ACCEPTED ${hangar.totalOk}`);
    const rows = [row(backend.name, "webhook ingest", concurrency, hangar, notes)];
    if (reference !== undefined) {
      const what = `bare node:http, nothing stored; in turns with the ${backend.name} row below`;
      rows.unshift(row("-", "HTTP+HMAC reference", concurrency, reference, [what]));
    }
    return rows;
  } finally {
    await backend.cleanup?.(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const webhookIngest: BenchSection = {
  name: "webhook-ingest",
  async run(backend, options) {
    const rows: BenchRow[] = [];
    for (const concurrency of CONCURRENCIES) rows.push(...(await measure(backend, concurrency, options)));
    return rows;
  },
};
