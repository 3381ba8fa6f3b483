/** SHA-256 of a file or of bytes flowing past. */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";

export async function fileSha256(path: string): Promise<{ sha256: string; size: number }> {
  const tap = hashTap();
  await pipeline(createReadStream(path), tap, async (source: AsyncIterable<Buffer>) => {
    for await (const _ of source) {
      // Drain: the tap has seen the bytes.
    }
  });
  return tap.result();
}

export interface HashTap extends Transform {
  result(): { sha256: string; size: number };
}

/** A pass-through that hashes and counts what goes through it. */
export function hashTap(): HashTap {
  const hash: Hash = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  }) as HashTap;
  let digest: string | undefined;
  tap.result = () => {
    digest ??= hash.digest("hex");
    return { sha256: digest, size };
  };
  return tap;
}
