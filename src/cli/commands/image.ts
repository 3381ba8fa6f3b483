/** `hangar image upload|download|list|prune`: VM images in the configured store. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { configPath, type LoadedConfig, loadConfigFile, publicUrl } from "../../config/index.js";
import {
  ChecksumError,
  copyOut,
  DEFAULT_MIN_AGE_MS,
  defaultCacheDir,
  downloadImage,
  ImageCache,
  ImageNameError,
  ImageNotFoundError,
  pruneImages,
  readIndex,
  uploadImage,
} from "../../images/index.js";
import { openConfiguredStore } from "../../store/from-config.js";
import type { Store } from "../../store/types.js";
import { UsageError } from "../errors.js";

interface ConfigFlag {
  readonly config: string;
}

async function withStore<T>(
  flags: ConfigFlag,
  use: (store: Store, loaded: LoadedConfig) => Promise<T>,
): Promise<T> {
  const loaded = loadConfigFile(flags.config);
  const store = await openConfiguredStore(loaded, process.env, publicUrl(loaded.config));
  try {
    return await use(store, loaded);
  } catch (error) {
    // Bad names and unknown images are the user's to fix: exit 2 with the message alone.
    if (error instanceof ImageNameError || error instanceof ImageNotFoundError)
      throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
}

function cacheFor(loaded: LoadedConfig, dir: string | undefined): ImageCache {
  const configured = loaded.config.worker.imageCache;
  const chosen = dir ? resolve(dir) : configured.dir ? configPath(loaded, configured.dir) : defaultCacheDir();
  return new ImageCache(chosen, configured.maxBytes);
}

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} B`;
}

export function register(program: Command): void {
  const image = program
    .command("image")
    .description("VM images in the store (content-addressed, verified on download)");

  image
    .command("upload")
    .description("store FILE as image NAME: object NAME-SHA256.EXT, then the index entry")
    .argument("<name>", "image name")
    .argument("<file>", "the image file")
    .requiredOption("-c, --config <file>", "hangar.yaml (its store section is used)")
    .action((name: string, file: string, flags: ConfigFlag) =>
      withStore(flags, async (store) => {
        const { entry, transferred } = await uploadImage(store, name, file);
        process.stdout.write(
          `${name}: ${entry.object} (${size(entry.size)})${transferred ? "" : ", already in the store"}\n`,
        );
      }),
    );

  image
    .command("download")
    .description(
      "fetch image NAME into the local cache, verify its SHA-256, and print its path (or copy it to -o)",
    )
    .argument("<name>", "image name")
    .option("-o, --output <file>", "copy the verified image here")
    .option("--cache-dir <dir>", "local cache (default: worker.imageCache.dir, else ~/.cache/hangar/images)")
    .option("--refresh", "fetch from the store even when the cache has the image")
    .requiredOption("-c, --config <file>", "hangar.yaml (its store section is used)")
    .action((name: string, flags: ConfigFlag & { output?: string; cacheDir?: string; refresh?: boolean }) =>
      withStore(flags, async (store, loaded) => {
        let result: Awaited<ReturnType<typeof downloadImage>>;
        try {
          result = await downloadImage(store, name, {
            cache: cacheFor(loaded, flags.cacheDir),
            ...(flags.refresh ? { refresh: true } : {}),
          });
        } catch (error) {
          if (error instanceof ChecksumError) throw new Error(`image ${name} rejected: ${error.message}`);
          throw error;
        }
        if (flags.output) {
          await copyOut(result.path, resolve(flags.output));
          process.stdout.write(`${resolve(flags.output)}\n`);
        } else {
          process.stdout.write(`${result.path}\n`);
        }
      }),
    );

  image
    .command("list")
    .description("the images the store's index names")
    .requiredOption("-c, --config <file>", "hangar.yaml (its store section is used)")
    .action((flags: ConfigFlag) =>
      withStore(flags, async (store) => {
        const index = await readIndex(store);
        for (const [name, entry] of Object.entries(index.images)) {
          process.stdout.write(`${name}\t${entry.object}\t${size(entry.size)}\t${entry.uploaded}\n`);
        }
      }),
    );

  image
    .command("prune")
    .description("remove image objects that no index entry names")
    .option("--dry-run", "only show what would be removed")
    .option(
      "--min-age <minutes>",
      "keep unnamed objects younger than this (uploads in flight)",
      String(DEFAULT_MIN_AGE_MS / 60_000),
    )
    .requiredOption("-c, --config <file>", "hangar.yaml (its store section is used)")
    .action((flags: ConfigFlag & { dryRun?: boolean; minAge: string }) =>
      withStore(flags, async (store) => {
        const minutes = Number(flags.minAge);
        if (!Number.isFinite(minutes) || minutes < 0)
          throw new UsageError("--min-age: expected minutes, e.g. 60");
        const result = await pruneImages(store, {
          dryRun: flags.dryRun === true,
          minAgeMs: minutes * 60_000,
        });
        const verb = flags.dryRun ? "would remove" : "removed";
        for (const object of result.unreferenced)
          process.stdout.write(`${verb} ${object.key} (${size(object.size)})\n`);
        for (const object of result.young)
          process.stdout.write(`kept ${object.key}: younger than ${minutes} min\n`);
        process.stdout.write(`${result.unreferenced.length} object(s) ${verb}\n`);
      }),
    );
}
