/**
 * A job's output on local disk while it runs, so the log streamer keeps
 * none of it in memory however long it gets: appends are written at once
 * (a synchronous write into the page cache, far quicker than any store, and
 * memory stays flat even when a job's output outruns the disk), and any
 * byte range can be read back for chunks, the final log and the final page.
 */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";

const READ_BYTES = 256 * 1024;

export class Spool {
  readonly path: string;
  private fd: number | undefined;
  private appended = 0;
  private failure: Error | undefined;
  private reader: Promise<FileHandle> | undefined;

  constructor(dir: string) {
    this.path = join(dir, `hangar-log-${randomBytes(8).toString("hex")}`);
    try {
      // Masked output, but still a job's private output: owner only.
      this.fd = openSync(this.path, "wx", 0o600);
    } catch (error) {
      this.failure = error as Error;
    }
  }

  /** Bytes appended so far. */
  get size(): number {
    return this.appended;
  }

  append(data: Buffer): void {
    if (data.length === 0 || this.fd === undefined) return;
    try {
      for (let offset = 0; offset < data.length; )
        offset += writeSync(this.fd, data, offset, data.length - offset, this.appended + offset);
      this.appended += data.length;
    } catch (error) {
      // Disk full or the like: keep what is there, refuse the rest, report it at the end.
      this.failure ??= error as Error;
      this.close();
    }
  }

  /** Why the file stopped taking output (its content so far stays readable), if it did. */
  get broken(): Error | undefined {
    return this.failure;
  }

  /** Bytes [start, end) of the file. */
  async read(start: number, end: number): Promise<Buffer> {
    this.reader ??= open(this.path, "r");
    const handle = await this.reader;
    const buffer = Buffer.alloc(Math.max(0, end - start));
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  }

  /** Bytes [start, end) as a stream that reads only when read from. */
  stream(start = 0, end = this.appended): Readable {
    const pieces = async function* (spool: Spool): AsyncGenerator<Buffer> {
      for (let position = start; position < end; ) {
        const piece = await spool.read(position, Math.min(end, position + READ_BYTES));
        if (piece.length === 0) throw new Error(`log spool ${spool.path} is shorter than expected`);
        position += piece.length;
        yield piece;
      }
    };
    return Readable.from(pieces(this), { objectMode: false });
  }

  /** No more appends. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Close and delete the file. */
  async remove(): Promise<void> {
    this.close();
    await (await this.reader?.catch(() => undefined))?.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }
}
