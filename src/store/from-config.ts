/** The store backend hangar.yaml asks for (`store.driver`), opened with its settings. */
import { mkdir } from "node:fs/promises";
import { ConfigError, configPath, type LoadedConfig, resolveOptionalSecret } from "../config/index.js";
import { openStore } from "./index.js";
import type { Store } from "./types.js";

/**
 * publicUrl is where readers find the fs store (its own server, or store.publicUrl);
 * the s3 store links to store.publicUrl or else the bucket URL itself.
 */
export async function openConfiguredStore(
  loaded: LoadedConfig,
  env: Readonly<Record<string, string | undefined>>,
  publicUrl: string,
): Promise<Store> {
  const { config } = loaded;
  switch (config.store.driver) {
    case "fs": {
      const dir = configPath(loaded, config.store.fs.dir);
      await mkdir(dir, { recursive: true });
      return openStore({ driver: "fs", dir, publicUrl });
    }
    case "s3": {
      const s3 = config.store.s3;
      if (s3 === undefined)
        throw new ConfigError(loaded.source, ["store.s3: required with store.driver: s3"]);
      const context = { env, baseDir: loaded.baseDir };
      const accessKeyId = resolveOptionalSecret(s3.accessKeyId, "store.s3.accessKeyId", context);
      const secretAccessKey = resolveOptionalSecret(s3.secretAccessKey, "store.s3.secretAccessKey", context);
      if ((accessKeyId === undefined) !== (secretAccessKey === undefined))
        throw new ConfigError(loaded.source, [
          "store.s3: set both accessKeyId and secretAccessKey, or neither (the SDK's default credentials)",
        ]);
      try {
        return await openStore({
          driver: "s3",
          url: s3.url,
          region: s3.region,
          pathStyle: s3.pathStyle,
          ...(accessKeyId !== undefined && secretAccessKey !== undefined
            ? { credentials: { accessKeyId, secretAccessKey } }
            : {}),
          ...(s3.acl ? { acl: s3.acl } : {}),
          ...(config.store.publicUrl ? { publicUrl: config.store.publicUrl } : {}),
        });
      } catch (error) {
        if (error instanceof Error && error.message.startsWith("store.s3.url"))
          throw new ConfigError(loaded.source, [error.message]);
        throw error;
      }
    }
  }
}
