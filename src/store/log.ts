/**
 * Streams one job's log into the store while the job runs.
 *
 * Layout under the job's slug:
 *   log.html             the viewer page: live at start, replaced at the end by
 *                        a static page with the output embedded
 *   status.json          job metadata and state, rewritten as the job goes
 *   log.chunks/NNNNNN    the output so far, in pieces (removed at the end)
 *   log                  the whole output (written at the end)
 *   attachments/<name>   files the job produced
 *
 * write() only appends to a spool file on local disk, so a slow store never
 * blocks the job's output and no output is kept in memory: chunks are read
 * back from the spool, and the final `log` and page are streamed from it.
 * All store writes go through one queue, one at a time, in order. A chunk
 * object is written before the status.json that counts it, and the final
 * `log` and page before the status.json that says the job has ended, so a
 * reader following status.json never asks for an object that is not there yet.
 */
import { tmpdir } from "node:os";
import { pipeline, Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { contentTypeFor, validateKey } from "./keys.js";
import { finalLogPage, LOG_PAGE_HTML } from "./log-page.js";
import { MaskingTransform, SecretMasker } from "./mask.js";
import { Spool } from "./spool.js";
import type { Store } from "./types.js";

export type LogState = "running" | "success" | "failure" | "error";

export interface LogMeta {
  readonly title: string;
  readonly context: string;
  readonly repo: string;
  readonly sha: string;
  readonly pull?: number | null;
  readonly worker: string;
}

export interface LogStreamerOptions {
  /** Longest time output waits in the buffer before it is written as a chunk (default 2000). */
  readonly flushIntervalMs?: number;
  /** Buffered output that triggers a chunk at once (default 256 KiB). */
  readonly flushBytes?: number;
  /**
   * Secret values, replaced by *** (also base64-, URL- and JSON-encoded; see mask.ts) in
   * the log, the attachments and the description, even when split across writes.
   */
  readonly mask?: readonly string[];
  /** Waits between attempts of a failed store write (default 250 ms, 1 s, 4 s). */
  readonly retryDelaysMs?: readonly number[];
  /** Where the output is spooled while the job runs (default: the system's temp dir). */
  readonly spoolDir?: string;
  readonly logger?: Logger;
}

/** The contents of status.json. */
export interface LogStatus {
  readonly title: string;
  readonly context: string;
  readonly repo: string;
  readonly sha: string;
  readonly pull: number | null;
  readonly worker: string;
  readonly state: LogState;
  readonly description: string;
  /** ISO 8601 times. */
  readonly started: string;
  readonly ended: string | null;
  /** Chunks written so far: log.chunks/000000 up to this count minus one. */
  readonly chunks: number;
  /** Names under attachments/. */
  readonly attachments: readonly string[];
}

/** A chunk never holds more than this, even when output piled up while the store was away. */
const MAX_CHUNK_BYTES = 1024 * 1024;

type Body = Buffer | string | (() => Readable);

export function chunkName(index: number): string {
  return `log.chunks/${String(index).padStart(6, "0")}`;
}

export class LogStreamer {
  private readonly flushIntervalMs: number;
  private readonly flushBytes: number;
  private readonly retryDelaysMs: readonly number[];
  private readonly logger: Logger | undefined;
  private readonly masker: SecretMasker;
  private readonly maskValues: readonly string[];
  private readonly started = new Date();
  private ended: Date | null = null;
  private state: LogState = "running";
  private description: string;
  private readonly attachments: string[] = [];
  /** All masked output. */
  private readonly spool: Spool;
  /** Output bytes already in chunks. */
  private sent = 0;
  private chunks = 0;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private statusQueued = false;
  private finishing: Promise<void> | undefined;

  /** Queues the viewer page and the first status.json at once; flush() resolves when they are stored. */
  constructor(
    private readonly store: Store,
    private readonly slug: string,
    private readonly meta: LogMeta,
    options: LogStreamerOptions = {},
  ) {
    validateKey(`${slug}/log`);
    this.flushIntervalMs = options.flushIntervalMs ?? 2000;
    this.flushBytes = options.flushBytes ?? 256 * 1024;
    this.retryDelaysMs = options.retryDelaysMs ?? [250, 1000, 4000];
    this.logger = options.logger;
    this.maskValues = options.mask ?? [];
    this.masker = new SecretMasker(this.maskValues);
    this.spool = new Spool(options.spoolDir ?? tmpdir());
    this.description = `In progress [${meta.worker}]`;
    void this.enqueue(async () => {
      await this.putWithRetry("log.html", LOG_PAGE_HTML);
    });
    this.scheduleStatus();
  }

  /** A text that leaves the job elsewhere (a status description), masked like the log. */
  mask(text: string): string {
    return this.masker.maskString(text);
  }

  /** The viewer page, for the status link. */
  get url(): string {
    return this.store.url(`${this.slug}/log.html`);
  }

  /** Buffer output; never blocks. Output after finish() is dropped. */
  write(chunk: string | Buffer): void {
    if (this.finishing !== undefined) return;
    // Copy a Buffer: the caller may reuse it once write() returns.
    this.spool.append(this.masker.push(Buffer.from(chunk)));
    if (this.unsent >= this.flushBytes) this.scheduleFlush();
    else if (this.unsent > 0) this.armTimer();
  }

  /** Write buffered output now; resolves when every store write queued so far is done. */
  async flush(): Promise<void> {
    this.scheduleFlush();
    await this.queue;
  }

  /**
   * Upload a file under attachments/<name> (name may contain slashes) and
   * list it in status.json, both masked like the log. Rejects when the name
   * is no valid key or the upload fails.
   */
  async attach(name: string, body: Buffer | Readable): Promise<void> {
    const shown = this.masker.maskString(name);
    const key = `attachments/${shown}`;
    validateKey(`${this.slug}/${key}`);
    await this.enqueue(async () => {
      if (Buffer.isBuffer(body)) {
        const masked = this.masker.maskBytes(body);
        if (!(await this.putWithRetry(key, masked))) throw new Error(`could not store attachment ${shown}`);
      } else {
        // A stream cannot be replayed, so it gets one attempt.
        await this.store.put(this.keyOf(key), this.maskStream(body), { contentType: contentTypeFor(key) });
      }
      if (!this.attachments.includes(shown)) this.attachments.push(shown);
      this.scheduleStatus();
    });
  }

  /** The stream through a masker of its own; a failing source fails the masked stream too. */
  private maskStream(body: Readable): Readable {
    if (!this.masker.active) return body;
    return pipeline(body, new MaskingTransform(this.maskValues), () => undefined);
  }

  /**
   * Write the whole `log`, the final page, the final status.json, then remove
   * the chunks and the spool file. Rejects when the log or the final status
   * could not be stored (a final page that could not be stored leaves the
   * live one, which still works). Calling it again returns the same promise.
   */
  finish(state: Exclude<LogState, "running">, description: string): Promise<void> {
    this.finishing ??= this.finishNow(state, description);
    return this.finishing;
  }

  private finishNow(state: Exclude<LogState, "running">, description: string): Promise<void> {
    // The rest of the output goes straight into the log: no last chunk needed.
    this.spool.append(this.masker.end());
    clearTimeout(this.timer);
    this.timer = undefined;
    const done = this.enqueue(async () => {
      const ended = new Date();
      this.spool.close();
      const size = this.spool.size;
      if (this.spool.broken)
        this.logger?.warn(
          { slug: this.slug, err: errorMessage(this.spool.broken) },
          "log spool failed; the log ends where it broke",
        );
      if (!(await this.putWithRetry("log", () => this.spool.stream(0, size)))) {
        throw new Error(`could not store the log of ${this.slug}`);
      }
      // Only now may anything say the job has ended: its log is there to read.
      this.state = state;
      this.description = this.masker.maskString(description);
      this.ended = ended;
      this.statusQueued = false;
      const status = this.status();
      const source = {
        size,
        read: (start: number, end: number) => this.spool.read(start, end),
        stream: (start: number, end: number) => this.spool.stream(start, end),
      };
      const page = () => Readable.from(finalLogPage(status, source), { objectMode: false });
      if (!(await this.putWithRetry("log.html", page)))
        this.logger?.warn({ slug: this.slug }, "could not store the final log page; the live one stays");
      if (!(await this.putStatus())) throw new Error(`could not store the status of ${this.slug}`);
      for (let index = 0; index < this.chunks; index++) {
        await this.store.delete(this.keyOf(chunkName(index))).catch((error: unknown) => {
          this.logger?.warn(
            { slug: this.slug, chunk: index, err: errorMessage(error) },
            "could not remove log chunk",
          );
        });
      }
    });
    return done.finally(() => this.spool.remove());
  }

  /** Output not yet in a chunk. */
  private get unsent(): number {
    return this.spool.size - this.sent;
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.finishing !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.scheduleFlush();
    }, this.flushIntervalMs);
    // finish() writes everything, so a pending timer need not keep the process alive.
    this.timer.unref();
  }

  private scheduleFlush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushQueued) return;
    this.flushQueued = true;
    void this.enqueue(async () => {
      this.flushQueued = false;
      await this.sendChunk();
    });
  }

  /** Everything unsent (up to a limit) becomes the next chunk, so a slow store gets fewer, larger chunks. */
  private async sendChunk(): Promise<void> {
    if (this.unsent === 0) return;
    let body: Buffer;
    try {
      body = await this.spool.read(this.sent, Math.min(this.spool.size, this.sent + MAX_CHUNK_BYTES));
    } catch (error) {
      this.logger?.warn({ slug: this.slug, err: errorMessage(error) }, "could not read the log spool");
      return;
    }
    if (body.length === 0) return;
    if (!(await this.putWithRetry(chunkName(this.chunks), body))) {
      this.armTimer(); // keep the output and try again with the next chunk
      return;
    }
    this.chunks++;
    this.sent += body.length;
    this.scheduleStatus();
    if (this.unsent >= this.flushBytes) this.scheduleFlush();
    else if (this.unsent > 0) this.armTimer();
  }

  private scheduleStatus(): void {
    if (this.statusQueued) return;
    this.statusQueued = true;
    void this.enqueue(async () => {
      if (!this.statusQueued) return; // finish() already wrote it
      this.statusQueued = false;
      await this.putStatus();
    });
  }

  private putStatus(): Promise<boolean> {
    return this.putWithRetry("status.json", `${JSON.stringify(this.status(), null, 2)}\n`);
  }

  private status(): LogStatus {
    return {
      title: this.meta.title,
      context: this.meta.context,
      repo: this.meta.repo,
      sha: this.meta.sha,
      pull: this.meta.pull ?? null,
      worker: this.meta.worker,
      state: this.state,
      description: this.description,
      started: this.started.toISOString(),
      ended: this.ended?.toISOString() ?? null,
      chunks: this.chunks,
      attachments: [...this.attachments],
    };
  }

  /** Run op after every earlier one; the queue itself never rejects. */
  private enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private keyOf(name: string): string {
    return `${this.slug}/${name}`;
  }

  /** False when every attempt failed; the failure is logged, never thrown. */
  private async putWithRetry(name: string, body: Body): Promise<boolean> {
    const key = this.keyOf(name);
    for (let attempt = 0; ; attempt++) {
      try {
        // A stream cannot be replayed: a factory makes a fresh one for each attempt.
        const attemptBody = typeof body === "function" ? body() : body;
        try {
          await this.store.put(key, attemptBody, { contentType: contentTypeFor(key) });
        } finally {
          // A store that failed before reading it all must not leave it open.
          if (attemptBody instanceof Readable) attemptBody.destroy();
        }
        return true;
      } catch (error) {
        const delay = this.retryDelaysMs[attempt];
        if (delay === undefined) {
          this.logger?.warn({ key, err: errorMessage(error) }, "store write failed");
          return false;
        }
        await sleep(delay);
      }
    }
  }
}
