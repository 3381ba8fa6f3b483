/**
 * `hangar image download NAME`: resolve the name through the index, fetch the
 * object into a temp file in the cache while hashing it, and rename it into
 * place only when size and SHA-256 match. A corrupt or partial transfer is
 * deleted and never replaces a good cached copy.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Store } from "../store/types.js";
import { type ImageCache, PARTIAL_SUFFIX } from "./cache.js";
import { type ImageEntry, readIndex } from "./catalog.js";
import { hashTap } from "./hash.js";
import { objectKey, validateImageName } from "./names.js";
import { type ProgressTarget, progressMeter } from "./progress.js";

export class ImageNotFoundError extends Error {
  override readonly name = "ImageNotFoundError";
}

export class ChecksumError extends Error {
  override readonly name = "ChecksumError";
}

export interface DownloadOptions {
  readonly cache: ImageCache;
  /** Fetch from the store even when the cache has the image. */
  readonly refresh?: boolean;
  readonly progress?: ProgressTarget;
}

export interface DownloadResult {
  readonly entry: ImageEntry;
  /** The verified file in the cache. */
  readonly path: string;
  readonly fromCache: boolean;
}

function partialPath(cache: ImageCache, entry: ImageEntry): string {
  return join(
    cache.dir,
    `.${entry.object}.${process.pid}-${randomBytes(4).toString("hex")}${PARTIAL_SUFFIX}`,
  );
}

async function fetchVerified(store: Store, entry: ImageEntry, options: DownloadOptions): Promise<string> {
  const stream = await store.getStream(objectKey(entry.object));
  if (stream === null) throw new ImageNotFoundError(`image object ${entry.object} is missing from the store`);
  await mkdir(options.cache.dir, { recursive: true });
  const temp = partialPath(options.cache, entry);
  const tap = hashTap();
  try {
    await pipeline(
      stream,
      tap,
      progressMeter(`download ${entry.object}`, entry.size, options.progress),
      createWriteStream(temp, { flags: "wx", mode: 0o644 }),
    );
    const got = tap.result();
    if (got.size !== entry.size) {
      throw new ChecksumError(
        `${entry.object}: got ${got.size} bytes, expected ${entry.size} (partial download)`,
      );
    }
    if (got.sha256 !== entry.sha256) {
      throw new ChecksumError(
        `${entry.object}: SHA-256 ${got.sha256} does not match the index's ${entry.sha256}`,
      );
    }
    const path = options.cache.pathFor(entry);
    await rename(temp, path);
    return path;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function downloadImage(
  store: Store,
  name: string,
  options: DownloadOptions,
): Promise<DownloadResult> {
  validateImageName(name);
  const entry = (await readIndex(store)).images[name];
  if (entry === undefined) throw new ImageNotFoundError(`no image named ${name} in the store's index`);
  if (!entry.object.includes(entry.sha256)) {
    throw new ChecksumError(
      `index entry of ${name} names ${entry.object}, which is not its SHA-256 ${entry.sha256}`,
    );
  }
  if (!options.refresh) {
    const cached = await options.cache.lookup(entry);
    if (cached !== undefined) return { entry, path: cached, fromCache: true };
  }
  const path = await fetchVerified(store, entry, options);
  await options.cache.evict(path);
  return { entry, path, fromCache: false };
}

/** Copy a cached image to `target` without ever leaving a half-written file there. */
export async function copyOut(source: string, target: string): Promise<void> {
  const temp = join(dirname(target), `.${randomBytes(6).toString("hex")}${PARTIAL_SUFFIX}`);
  try {
    await copyFile(source, temp);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
