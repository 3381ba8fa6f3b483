/**
 * Dispatch latency: from the webhook's 202 for a signed pull_request delivery
 * to the `.hangar/run` of its job having started, on an idle worker, for a
 * small repository. `hangar serve` runs as a child process next to the
 * GitHub emulator in this one; the run script writes the time it started
 * (`date +%s%N`) into a file named after the PR, which this process reads.
 * One PR at a time, each waited for until its result is posted.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { ConfigInput } from "../src/config/index.js";
import { type Emulator, startEmulator } from "../src/emulator/index.js";
import { percentile } from "./stats.js";
import type { BenchBackend, BenchRow, BenchSection } from "./types.js";

const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const PULLS = 50;
const REPO = "bench/dispatch";
const CONTEXT = "unit";
const TIMEOUT_MS = 30_000;

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `dispatch bench: timed out waiting for ${what}; hangar serve logged:\n${recent.join("\n")}`,
      );
    }
    await delay(5);
  }
}

/** The last log lines of `hangar serve`, for the error when something times out. */
const recent: string[] = [];

/** `hangar serve` on the config; resolves with its webhook URL once it logged "hangar is up". */
function startServe(configFile: string): Promise<{ child: ChildProcess; webhook: string }> {
  const child = spawn(process.execPath, [CLI, "serve", "--config", configFile], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  recent.length = 0;
  return new Promise((resolve, reject) => {
    const early = (code: number | null): void =>
      reject(new Error(`hangar serve exited with ${code} before it was up: ${recent.join("\n")}`));
    child.once("exit", early);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      if (!line.includes('"hangar is up"')) return;
      child.off("exit", early);
      resolve({ child, webhook: String((JSON.parse(line) as { webhook: unknown }).webhook) });
    });
  });
}

async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

function writeConfig(
  dir: string,
  backend: BenchBackend,
  emulator: Emulator,
  secret: string,
  token: string,
): string {
  writeFileSync(join(dir, "webhook-secret"), secret, { mode: 0o600 });
  writeFileSync(join(dir, "github-token"), token, { mode: 0o600 });
  const config: ConfigInput = {
    webhook: { listen: "127.0.0.1:0", secret: { file: "webhook-secret" } },
    // scan and the worker share a signing key, as a deployment's do (SQLite makes one by itself).
    queue: { ...backend.queueConfig(dir), signingKey: randomBytes(24).toString("hex") },
    forge: { github: { api: emulator.url, clone: "git", token: { file: "github-token" } } },
    store: { driver: "fs", fs: { dir: "store", listen: "127.0.0.1:0" } },
    // The jobs write their start marks here: the sandbox shares it with trusted jobs only.
    worker: { name: "bench-worker", workDir: "work", sandbox: { trustedPaths: [join(dir, "marks")] } },
    projects: { [REPO]: { branches: { main: [CONTEXT] } } },
    trust: { users: ["alice"] },
    log: { level: "info" },
  };
  const configFile = join(dir, "hangar.yaml");
  writeFileSync(configFile, stringify(config));
  return configFile;
}

/** One PR: its 202 time (ms since the epoch) and the time its run started. */
async function onePull(emulator: Emulator, marks: string, n: number): Promise<number> {
  const pull = await emulator.openPull({ repo: REPO, author: "alice", files: { "change.txt": `${n}\n` } });
  const delivery = pull.delivery;
  if (delivery?.status !== 202) throw new Error(`dispatch bench: the webhook answered ${delivery?.status}`);
  const acceptedAt = Date.parse(delivery.time) + delivery.durationMs;
  const mark = join(marks, String(pull.number));
  const startedNs = await until(`the run of pull ${pull.number}`, () =>
    existsSync(mark) ? readFileSync(mark, "utf8").trim() : undefined,
  );
  // Idle again: the job's result is posted (and its delivery acked) before the next PR.
  await until(`the result of pull ${pull.number}`, async () => {
    const statuses = await emulator.statuses(REPO, pull.sha);
    return statuses.some((s) => s.context === CONTEXT && s.state !== "pending") ? true : undefined;
  });
  return Number(BigInt(startedNs) / 1000n) / 1000 - acceptedAt;
}

async function measure(backend: BenchBackend): Promise<BenchRow> {
  const dir = mkdtempSync(join(tmpdir(), "hangar-bench-dispatch-"));
  const marks = join(dir, "marks");
  mkdirSync(marks);
  // Written by the sandbox's uid, not the bench's.
  chmodSync(marks, 0o1777);
  const secret = randomBytes(16).toString("hex");
  const token = randomBytes(16).toString("hex");
  const emulator = await startEmulator({ dir: join(dir, "git"), token });
  let serve: ChildProcess | undefined;
  try {
    const script = `#!/bin/sh\ndate +%s%N > "${marks}/$TEST_PULL.tmp"\nmv "${marks}/$TEST_PULL.tmp" "${marks}/$TEST_PULL"\n`;
    await emulator.createRepo({
      repo: REPO,
      files: { "README.md": "bench\n", ".hangar/run": { content: script, executable: true } },
    });
    const started = await startServe(writeConfig(dir, backend, emulator, secret, token));
    serve = started.child;
    await emulator.setWebhook({ url: started.webhook, secret });

    // The first PR warms up clone paths and connections; it is not counted.
    await onePull(emulator, marks, 0);
    const latencies: number[] = [];
    for (let n = 1; n <= PULLS; n++) latencies.push(await onePull(emulator, marks, n));
    const sorted = Float64Array.from(latencies).sort();
    return {
      backend: backend.name,
      section: "dispatch latency",
      concurrency: 1,
      requests: latencies.length,
      perSecond: Number.NaN,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      note: "202 -> .hangar/run started, idle worker",
    };
  } finally {
    if (serve) await stopServe(serve);
    await emulator.close();
    await backend.cleanup?.(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const dispatchLatency: BenchSection = {
  name: "dispatch-latency",
  async run(backend) {
    return [await measure(backend)];
  },
};
