/**
 * The fs store backend: one file per object under a root directory, keys
 * mapped to relative paths. An object is written to a temporary file in its
 * target directory and renamed into place, so readers never see a partial
 * object. Content types are not kept; the store's HTTP server derives them
 * from the key.
 */
import { randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rmdir,
  unlink,
} from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { compareKeys, encodeKey, validateKey, validatePrefix } from "./keys.js";
import { BadKeyError, ObjectExistsError, type ObjectInfo, type PutOptions, type Store } from "./types.js";

/** Names of in-flight temporary files; never listed, and refused as key segments. */
export const TEMP_PREFIX = ".hangar-tmp-";

export interface FsStoreOptions {
  readonly dir: string;
  /** Base URL under which the directory is served, e.g. `http://127.0.0.1:8081/`. */
  readonly publicUrl: string;
}

export async function openFsStore(options: FsStoreOptions): Promise<Store> {
  const root = path.resolve(options.dir);
  await mkdir(root, { recursive: true });
  const base = options.publicUrl.endsWith("/") ? options.publicUrl : `${options.publicUrl}/`;
  return new FsStore(root, base);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/** Errors that mean "there is no object under this key". */
const MISSING = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);

class FsStore implements Store {
  readonly driver = "fs";

  constructor(
    private readonly root: string,
    private readonly baseUrl: string,
  ) {}

  async put(key: string, body: Buffer | string | Readable, options: PutOptions = {}): Promise<void> {
    const file = this.pathOf(key);
    const { temp, handle } = await this.createTemp(path.dirname(file));
    try {
      if (body instanceof Readable) {
        // The write stream closes the handle when it ends, or fails.
        await pipeline(body, handle.createWriteStream());
      } else {
        try {
          await handle.writeFile(body);
        } finally {
          await handle.close();
        }
      }
      if (options.overwrite ?? true) {
        await rename(temp, file);
      } else {
        // link() refuses an existing target atomically, where a check-then-rename would race.
        await link(temp, file).catch((error: unknown) => {
          if (errorCode(error) === "EEXIST")
            throw new ObjectExistsError(`store object ${JSON.stringify(key)} exists`);
          throw error;
        });
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async get(key: string): Promise<Buffer | null> {
    const file = this.pathOf(key);
    try {
      return await readFile(file);
    } catch (error) {
      if (MISSING.has(errorCode(error) ?? "")) return null;
      throw error;
    }
  }

  async getStream(key: string): Promise<Readable | null> {
    const file = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(file, "r");
    } catch (error) {
      if (MISSING.has(errorCode(error) ?? "")) return null;
      throw error;
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      return null;
    }
    return handle.createReadStream();
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    validatePrefix(prefix);
    const dirKey = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    const found: ObjectInfo[] = [];
    await this.walk(dirKey, prefix, found);
    return found.sort(compareKeys);
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await unlink(file);
    } catch (error) {
      if (MISSING.has(errorCode(error) ?? "") || errorCode(error) === "EPERM") return;
      throw error;
    }
    await this.pruneEmptyDirs(path.dirname(file));
  }

  url(key: string): string {
    return this.baseUrl + encodeKey(validateKey(key));
  }

  async close(): Promise<void> {}

  private pathOf(key: string): string {
    validateKey(key);
    const segments = key.split("/");
    if (segments.some((segment) => segment.startsWith(TEMP_PREFIX))) {
      throw new BadKeyError(
        `bad store key ${JSON.stringify(key)}: ${TEMP_PREFIX}* is reserved by the fs store`,
      );
    }
    return path.join(this.root, ...segments);
  }

  private async createTemp(dir: string): Promise<{ temp: string; handle: FileHandle }> {
    for (let attempt = 1; ; attempt++) {
      await mkdir(dir, { recursive: true });
      const temp = path.join(dir, TEMP_PREFIX + randomBytes(8).toString("hex"));
      try {
        return { temp, handle: await open(temp, "wx") };
      } catch (error) {
        // A concurrent delete may have pruned the directory just after mkdir: make it again.
        if (errorCode(error) !== "ENOENT" || attempt >= 5) throw error;
      }
    }
  }

  private async walk(dirKey: string, prefix: string, found: ObjectInfo[]): Promise<void> {
    const dir = path.join(this.root, ...dirKey.split("/").filter((segment) => segment !== ""));
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (MISSING.has(errorCode(error) ?? "")) return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const key = dirKey + entry.name;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`))
          await this.walk(`${key}/`, prefix, found);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        try {
          const stats = await lstat(path.join(dir, entry.name));
          found.push({ key, size: stats.size, modified: stats.mtime });
        } catch (error) {
          if (errorCode(error) !== "ENOENT") throw error; // deleted while listing
        }
      }
    }
  }

  /** Remove directories left empty by a delete, up to (not including) the root. */
  private async pruneEmptyDirs(dir: string): Promise<void> {
    let current = dir;
    while (current.startsWith(this.root + path.sep)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
      current = path.dirname(current);
    }
  }
}
