/**
 * The abuse section: hostile traffic against the webhook in a process of its
 * own, while a maintainer's PRs keep arriving as signed deliveries. Each
 * attack reports the webhook's RSS before, at its peak and after, how many of
 * the legitimate deliveries were accepted and how fast, and the 5xx answers.
 */
import { type ChildProcess, fork } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AttackOutcome } from "./abuse-attacks.js";

export interface AbuseSize {
  readonly unsignedBodies: number;
  readonly bodyMiB: number;
  readonly slowloris: number;
  readonly junkHeaders: number;
  /** The webhook's header timeout: how long a slowloris connection is kept. */
  readonly headersTimeoutMs: number;
}

export const FULL_ABUSE: AbuseSize = {
  unsignedBodies: 200,
  bodyMiB: 25,
  slowloris: 1000,
  junkHeaders: 100_000,
  headersTimeoutMs: 10_000,
};
export const SHORT_ABUSE: AbuseSize = {
  unsignedBodies: 20,
  bodyMiB: 25,
  slowloris: 100,
  junkHeaders: 2_000,
  headersTimeoutMs: 1_000,
};

export interface AbuseResult {
  readonly attack: string;
  readonly sent: number;
  readonly rssMb: { readonly before: number; readonly peak: number; readonly after: number };
  readonly legitSent: number;
  readonly legitAccepted: number;
  readonly legitP99Ms: number;
  readonly serverErrors: number;
  readonly note?: string;
}

const SCRIPT = fileURLToPath(new URL("./webhook-process.js", import.meta.url));
const ATTACKER = fileURLToPath(new URL("./abuse-attacker.js", import.meta.url));
/** Signed deliveries in flight at once while an attack runs. */
const LEGIT_CONCURRENCY = 2;
/** However short the attack, at least this many legitimate deliveries are measured. */
const MIN_LEGIT = 50;

interface Webhook {
  readonly url: string;
  readonly secret: string;
  rssMb(): number;
  series(): Promise<number>;
  stop(): Promise<void>;
}

async function startWebhook(dir: string, settings: Readonly<Record<string, unknown>>): Promise<Webhook> {
  const secret = randomBytes(20).toString("hex");
  const child: ChildProcess = fork(SCRIPT, [dir, secret, JSON.stringify(settings)], { stdio: "inherit" });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the webhook exited with ${code} before listening`)));
    child.once("message", (message: { url: string }) => resolve(message.url));
  });
  return {
    url,
    secret,
    rssMb: () => {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
      return Math.round(Number(kb) / 1024);
    },
    series: () =>
      new Promise((resolve) => {
        child.once("message", (message: { series: number }) => resolve(message.series));
        child.send("series");
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.send("stop");
      }),
  };
}

const LEGIT_BODY = Buffer.from(
  JSON.stringify({
    action: "synchronize",
    number: 1,
    pull_request: { number: 1, head: { sha: "0".repeat(40) } },
  }),
);

/** One signed pull_request delivery; its status (0: no answer). */
async function deliverSigned(webhook: Webhook): Promise<number> {
  const signature = `sha256=${createHmac("sha256", webhook.secret).update(LEGIT_BODY).digest("hex")}`;
  try {
    const response = await fetch(webhook.url, {
      method: "POST",
      body: LEGIT_BODY,
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": signature,
      },
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** Signed deliveries, a few at a time, until `until` settles and at least MIN_LEGIT went; their statuses and times. */
async function legitimate(
  webhook: Webhook,
  until: Promise<unknown>,
): Promise<{ statuses: number[]; latencies: number[] }> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  const statuses: number[] = [];
  const latencies: number[] = [];
  const worker = async (): Promise<void> => {
    while (!done || statuses.length < MIN_LEGIT) {
      const started = performance.now();
      const status = await deliverSigned(webhook);
      latencies.push(performance.now() - started);
      statuses.push(status);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await Promise.all(Array.from({ length: LEGIT_CONCURRENCY }, worker));
  return { statuses, latencies };
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN) * 10) / 10;
}

/** Runs one attack against a fresh webhook while legitimate deliveries go on, sampling the RSS. */
async function underAttack(
  attack: string,
  size: AbuseSize,
  run: (webhook: Webhook) => Promise<AttackOutcome>,
): Promise<AbuseResult> {
  const dir = mkdtempSync(join(tmpdir(), "hangar-abuse-"));
  const webhook = await startWebhook(dir, { headersTimeoutMs: size.headersTimeoutMs });
  try {
    // What a legitimate delivery adds to /metrics is there before the attack: only the attack's share is counted.
    if ((await deliverSigned(webhook)) !== 202) throw new Error("the webhook refused a signed delivery");
    const seriesBefore = await webhook.series();
    const before = webhook.rssMb();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, webhook.rssMb());
    }, 20);
    const attackDone = run(webhook);
    const [outcome, legit] = await Promise.all([attackDone, legitimate(webhook, attackDone)]);
    clearInterval(sampler);
    peak = Math.max(peak, webhook.rssMb());
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = webhook.rssMb();
    const seriesAfter = await webhook.series();
    const legitErrors = legit.statuses.filter((s) => s >= 500).length;
    return {
      attack,
      sent: outcome.sent,
      rssMb: { before, peak, after },
      legitSent: legit.statuses.length,
      legitAccepted: legit.statuses.filter((s) => s === 202).length,
      legitP99Ms: p99(legit.latencies),
      serverErrors: outcome.serverErrors + legitErrors,
      note: `webhook series ${seriesBefore} before, ${seriesAfter} after`,
    };
  } finally {
    await webhook.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs an attack from its own process (see abuse-attacker.ts). */
function attackFrom(kind: string, ...args: number[]): (webhook: Webhook) => Promise<AttackOutcome> {
  return (webhook) =>
    new Promise((resolve, reject) => {
      const child = fork(ATTACKER, [kind, webhook.url, ...args.map(String)], { stdio: "inherit" });
      let outcome: AttackOutcome | undefined;
      child.once("message", (message: AttackOutcome) => {
        outcome = message;
      });
      child.once("exit", (code) =>
        outcome === undefined
          ? reject(new Error(`the ${kind} attacker exited with ${code}`))
          : resolve(outcome),
      );
    });
}

export function abuseScenarios(size: AbuseSize): (() => Promise<AbuseResult>)[] {
  const drip = Math.max(100, size.headersTimeoutMs / 10);
  return [
    () =>
      underAttack(
        `${size.unsignedBodies} unsigned ${size.bodyMiB} MiB bodies at once`,
        size,
        attackFrom("unsigned-bodies", size.unsignedBodies, size.bodyMiB),
      ),
    () =>
      underAttack(
        `${size.slowloris} slowloris connections`,
        size,
        attackFrom("slowloris", size.slowloris, drip),
      ),
    () =>
      underAttack(
        `${size.junkHeaders} unique junk event headers`,
        size,
        attackFrom("junk-events", size.junkHeaders, 32),
      ),
  ];
}

export function formatAbuseTable(results: readonly AbuseResult[]): string {
  const header = [
    "attack",
    "sent",
    "webhook RSS MB before / peak / after",
    "legit accepted",
    "p99 ms",
    "5xx",
  ];
  const rows = results.map((r) => [
    r.attack,
    String(r.sent),
    `${r.rssMb.before} / ${r.rssMb.peak} / ${r.rssMb.after}`,
    `${r.legitAccepted}/${r.legitSent}`,
    String(r.legitP99Ms),
    String(r.serverErrors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ");
  const notes = results.filter((r) => r.note).map((r) => `  ${r.attack}: ${r.note}`);
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line), ...notes].join("\n");
}
