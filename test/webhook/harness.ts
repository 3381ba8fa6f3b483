/** Shared setup for webhook tests: a real SQLite queue in a temp dir and a server on a random port. */
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { type HangarConfig, parseConfig, queueLayout } from "../../src/config/index.js";
import { openQueue } from "../../src/queue/index.js";
import type { QueueBackend } from "../../src/queue/types.js";
import { createLogger } from "../../src/util/logger.js";
import { type RunningWebhook, startWebhookServer } from "../../src/webhook/index.js";

export const SECRET = "It's a Secret to Everybody";
export const MAX_BODY_BYTES = 64 * 1024;

export interface Harness {
  readonly url: string;
  readonly queue: QueueBackend;
  readonly config: HangarConfig;
  readonly dir: string;
  readonly spoolDir?: string;
  /** Every log line the server wrote so far, parsed. */
  logs(): Record<string, unknown>[];
  /** How many entries wait in the webhook queue, and their bodies. */
  queued(): Promise<Buffer[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Spool and accepted-ids record in `<dir>/spool` (or this directory). */
  readonly spool?: boolean | string;
  readonly insecure?: boolean;
  /** Configure no secret (only meaningful with insecure). */
  readonly noSecret?: boolean;
  readonly publishTimeoutMs?: number;
  /** Put something between the webhook and the real queue (e.g. a FlakyQueue). */
  readonly wrapQueue?: (queue: QueueBackend) => QueueBackend;
  /** Leave the temp dir behind on close (the caller removes it). */
  readonly keepDir?: boolean;
  /** Use this directory instead of a new temp dir. */
  readonly dir?: string;
  /** More `webhook:` settings (limits, timeouts). */
  readonly webhook?: Readonly<Record<string, unknown>>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "hangar-webhook-test-"));
  const { config } = parseConfig(
    {
      webhook: {
        listen: "127.0.0.1:0",
        ...(options.noSecret ? {} : { secret: SECRET }),
        maxBodyBytes: MAX_BODY_BYTES,
        insecureNoSignature: options.insecure === true,
        spool: { publishTimeoutMs: options.publishTimeoutMs ?? 5000 },
        ...options.webhook,
      },
      queue: { sqlite: { path: join(dir, "queue.sqlite") } },
    },
    "test",
    dir,
  );
  const spoolDir =
    typeof options.spool === "string" ? options.spool : options.spool ? join(dir, "spool") : undefined;
  const lines: string[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) =>
    lines.push(
      ...chunk
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== ""),
    ),
  );
  const logger = createLogger({ level: "debug", destination: sink });
  const queue = await openQueue({
    driver: "sqlite",
    path: config.queue.sqlite.path,
    layout: queueLayout(config),
  });
  let server: RunningWebhook;
  try {
    server = await startWebhookServer({
      config,
      secret: options.noSecret ? "" : SECRET,
      queue: options.wrapQueue ? options.wrapQueue(queue) : queue,
      logger,
      ...(spoolDir ? { spoolDir } : {}),
    });
  } catch (error) {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let closed = false;
  return {
    url: server.url,
    queue,
    config,
    dir,
    ...(spoolDir ? { spoolDir } : {}),
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    queued: async () => {
      const info = await queue.inspect(config.queue.names.webhook, 100);
      return info.entries.map((e) => e.body);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await server.close();
      await queue.close().catch(() => undefined);
      if (options.keepDir !== true) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function signature(body: Buffer | string, secret = SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface Delivery {
  readonly event?: string;
  readonly delivery?: string;
  readonly body: Buffer | string;
  readonly contentType?: string;
  /** Override the signature header; `null` sends none. */
  readonly signature?: string | null;
  readonly method?: string;
  readonly path?: string;
}

export async function deliver(
  url: string,
  d: Delivery,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { "content-type": d.contentType ?? "application/json" };
  if (d.event !== undefined) headers["x-github-event"] = d.event;
  if (d.delivery !== undefined) headers["x-github-delivery"] = d.delivery;
  const sig = d.signature === undefined ? signature(d.body) : d.signature;
  if (sig !== null) headers["x-hub-signature-256"] = sig;
  const method = d.method ?? "POST";
  const response = await fetch(new URL(d.path ?? "/", url), {
    method,
    headers,
    ...(method === "GET" || method === "HEAD" ? {} : { body: d.body }),
  });
  const text = await response.text();
  return { status: response.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A pull_request payload, formatted unlike JSON.stringify so re-serializing would show. */
export function pullRequestPayload(action = "opened"): Buffer {
  const text = `{
  "action": "${action}",
  "number": 7,
  "pull_request": {
    "number": 7, "state": "open", "title": "Caf\\u00e9 fix — naïve ✈ 1.50e2",
    "head": { "sha": "0123456789abcdef0123456789abcdef01234567", "ref": "topic" },
    "base": { "ref": "main", "repo": { "full_name": "octo/hello" } },
    "big": 1.0e+3
  },
  "repository": { "full_name": "octo/hello" },
  "sender": { "login": "octocat" }
}
`;
  return Buffer.from(text, "utf8");
}
