/**
 * A download that survives a broken connection: when the body stops early,
 * the rest is asked for again from where it broke (a Range request pinned to
 * the object's ETag, so a replaced object is never spliced onto the old one).
 * The SDK retries whole requests; only this resumes a body half read.
 */
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";

export interface ResumeOptions {
  /** The object's length, when known: a body that ends short of it is resumed. */
  readonly size: number | undefined;
  /** The rest of the object from offset on. */
  readonly reopen: (offset: number) => Promise<Readable>;
  /** Waits before each resumption; their count is the number of resumptions allowed in a row. */
  readonly delaysMs: readonly number[];
}

export class ShortBodyError extends Error {
  override readonly name = "ShortBodyError";
}

async function* resumingBytes(first: Readable, options: ResumeOptions): AsyncGenerator<Buffer> {
  let body = first;
  let offset = 0;
  let failures = 0;
  try {
    for (;;) {
      try {
        for await (const piece of body) {
          const buffer = piece as Buffer;
          offset += buffer.length;
          failures = 0;
          yield buffer;
        }
        if (options.size === undefined || offset >= options.size) return;
        throw new ShortBodyError(`download ended at ${offset} of ${options.size} bytes`);
      } catch (error) {
        body.destroy();
        const delay = options.delaysMs[failures++];
        if (delay === undefined) throw error;
        await sleep(delay);
        body = await options.reopen(offset);
      }
    }
  } finally {
    body.destroy();
  }
}

export function resumingStream(first: Readable, options: ResumeOptions): Readable {
  return Readable.from(resumingBytes(first, options), { objectMode: false });
}
