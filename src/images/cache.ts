/**
 * The local image cache: verified image objects under their content-addressed
 * names, least recently used evicted beyond a size limit. Only complete,
 * verified files are ever renamed in, so a file present under its name is good.
 */
import { readdir, rm, stat, utimes } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ImageEntry } from "./catalog.js";

/** Temp files of downloads that died with their process are removed after this long. */
const STALE_PARTIAL_MS = 60 * 60 * 1000;
export const PARTIAL_SUFFIX = ".part";

export function defaultCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "hangar", "images");
}

export class ImageCache {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  pathFor(entry: ImageEntry): string {
    return join(this.dir, entry.object);
  }

  /** The cached file for entry, marked as just used, or undefined when it is not here. */
  async lookup(entry: ImageEntry): Promise<string | undefined> {
    const path = this.pathFor(entry);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile() || info.size !== entry.size) return undefined;
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined);
    return path;
  }

  /** Remove least recently used images until the cache fits; `keep` stays even if it alone is too big. */
  async evict(keep: string): Promise<string[]> {
    const files: { path: string; size: number; used: number }[] = [];
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      if (name.endsWith(PARTIAL_SUFFIX)) {
        if (Date.now() - info.mtimeMs > STALE_PARTIAL_MS) await rm(path, { force: true });
        continue;
      }
      files.push({ path, size: info.size, used: info.mtimeMs });
    }
    let total = files.reduce((sum, f) => sum + f.size, 0);
    const removed: string[] = [];
    for (const file of files.sort((a, b) => a.used - b.used)) {
      if (total <= this.maxBytes) break;
      if (file.path === keep) continue;
      await rm(file.path, { force: true });
      total -= file.size;
      removed.push(file.path);
    }
    return removed;
  }
}
