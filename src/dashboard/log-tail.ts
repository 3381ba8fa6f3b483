/**
 * The end of a job's log, read from the store the way the log streamer
 * writes it: status.json says whether the job still runs and how many
 * chunks there are; a running log is the chunks, a finished one `log`.
 */
import { chunkName, type LogStatus } from "../store/log.js";
import type { Store } from "../store/types.js";

export interface LogTail {
  readonly state: LogStatus["state"];
  readonly description: string;
  /** The last bytes of the output, as text without terminal escapes. */
  readonly text: string;
  /** True when earlier output was left out. */
  readonly truncated: boolean;
}

export const DEFAULT_TAIL_BYTES = 64 * 1024;

const ESCAPES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are what this removes
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]?|\r(?!\n)/g;

export function plainText(bytes: Buffer): string {
  return bytes.toString("utf8").replace(ESCAPES, "").replace(/\r\n/g, "\n");
}

async function readStatus(store: Store, slug: string): Promise<LogStatus | null> {
  const body = await store.get(`${slug}/status.json`);
  if (body === null) return null;
  try {
    return JSON.parse(body.toString("utf8")) as LogStatus;
  } catch {
    return null;
  }
}

/** The newest chunks, back to `maxBytes`; null when a chunk is gone (the job just finished). */
async function tailOfChunks(store: Store, slug: string, chunks: number, maxBytes: number) {
  const parts: Buffer[] = [];
  let size = 0;
  let index = chunks - 1;
  for (; index >= 0 && size < maxBytes; index--) {
    const chunk = await store.get(`${slug}/${chunkName(index)}`);
    if (chunk === null) return null;
    parts.unshift(chunk);
    size += chunk.length;
  }
  return { bytes: Buffer.concat(parts), earlier: index >= 0 };
}

function cut(bytes: Buffer, maxBytes: number, earlier: boolean): { text: string; truncated: boolean } {
  if (bytes.length <= maxBytes) return { text: plainText(bytes), truncated: earlier };
  const text = plainText(bytes.subarray(bytes.length - maxBytes));
  // Start at a line: the first one is most likely cut (or a split UTF-8 character).
  const newline = text.indexOf("\n");
  return { text: newline >= 0 ? text.slice(newline + 1) : text, truncated: true };
}

/** The tail of the log stored under `slug`, or null when there is no such log. */
export async function readLogTail(
  store: Store,
  slug: string,
  maxBytes = DEFAULT_TAIL_BYTES,
): Promise<LogTail | null> {
  const status = await readStatus(store, slug);
  if (status === null) return null;
  const meta = { state: status.state, description: status.description };
  if (status.state === "running") {
    const tail = await tailOfChunks(store, slug, status.chunks, maxBytes);
    if (tail !== null) return { ...meta, ...cut(tail.bytes, maxBytes, tail.earlier) };
  }
  const whole = await store.get(`${slug}/log`);
  if (whole === null) return { ...meta, text: "", truncated: false };
  return { ...meta, ...cut(whole, maxBytes, false) };
}
