/**
 * Every file and directory hangar itself keeps (its config, `{file: ...}`
 * secrets, queue and job databases, store, spool, outbox, image cache, the
 * work directory): the sandbox hides each of them wherever a directory the job
 * sees (a system path, the hangar install) happens to hold one.
 */
import { isAbsolute, join, resolve } from "node:path";
import { configPath, type LoadedConfig } from "../../config/index.js";
import { defaultCacheDir } from "../../images/index.js";
import { signingKeyFile } from "../../queue/signing-key.js";

/** Files SQLite keeps next to a database while it is open. */
const SQLITE_SIBLINGS = ["", "-wal", "-shm", "-journal"];

/** Paths of every `{file: PATH}` secret reference anywhere in the configuration. */
function secretFiles(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) secretFiles(item, found);
  } else if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    const [only] = entries;
    if (entries.length === 1 && only?.[0] === "file" && typeof only[1] === "string") found.push(only[1]);
    else for (const [, item] of entries) secretFiles(item, found);
  }
  return found;
}

function sqliteFiles(path: string): string[] {
  return SQLITE_SIBLINGS.map((suffix) => `${path}${suffix}`);
}

/** hangar's own state, as absolute paths (some may not exist). */
export function hangarStatePaths(loaded: LoadedConfig, workDir?: string): string[] {
  const { config } = loaded;
  const path = (value: string) => configPath(loaded, value);
  const queueDatabase = path(config.queue.sqlite.path);
  const jobsDatabase = path(config.worker.jobsDatabase ?? join(queueDatabase, "..", "hangar-jobs.sqlite"));
  const keyFile = signingKeyFile(loaded);
  return [
    isAbsolute(loaded.source) ? loaded.source : resolve(loaded.baseDir, loaded.source),
    ...secretFiles(config).map(path),
    ...sqliteFiles(queueDatabase),
    ...sqliteFiles(jobsDatabase),
    ...sqliteFiles(path(config.forge.github.outbox)),
    ...(keyFile ? [keyFile] : []),
    path(config.store.fs.dir),
    path(config.webhook.spool.dir),
    config.worker.imageCache.dir ? path(config.worker.imageCache.dir) : defaultCacheDir(),
    ...(workDir ? [workDir] : []),
  ];
}
